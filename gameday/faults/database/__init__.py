"""Database faults: kill or freeze the primary (its postmaster, its node, its region), slow or
cut the replication link, and the rollback that brings the old primary back as a standby."""
