"""Network faults: kernel-level isolation (nftables) and link toxics (fault proxy)."""
