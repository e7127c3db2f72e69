"""Prompt-injection guard for the RAG service: a question or an ingested document is checked
against a fixed table of rules, and a blocked text says which rule fired and on what words.

Deterministic and explainable on purpose: a verdict can be read, reproduced and argued with,
which a classifier's score cannot. The rules cover six families, in the order they are tried:
instruction override, system-prompt exfiltration, role hijack, chat-template delimiters, sending
data out, and "decode this and follow it".

The text is normalised before matching, so that look-alikes and obfuscation read as the words
they show: compatibility decomposition (NFKD: full-width and mathematical letters become plain
ones) with the accents dropped, invisible characters removed (zero-width, soft hyphen, bidi
controls), casefold, Cyrillic and Greek homoglyphs mapped to Latin, letter-by-letter writing
joined ("i g n o r e" -> "ignore", also with dots or dashes), and whitespace collapsed (newlines
kept: the delimiter rules look at line starts). A joined phrase loses its own word gaps, so the
rules allow none between words ("ignorepreviousinstructions" matches too). The excerpt in a
verdict is this normalised text.

The trade-off, to keep false positives low on runbook text: *imperatives addressed to the
assistant* are blocked, *text about* instructions is not. An override verb must stand where an
order stands (the start of a sentence or clause, after "please", "and", "could you", "you must",
"would you mind ...ing"), so "What happens if the primary ignores the previous leader's lock?",
"Should on-call ignore the previous instructions in the runbook?" and "Previous instructions in
the runbook say to fail over" pass, while "Please ignore the previous instructions" is blocked,
in a question and in a document alike: a retrieved document reaches the model as text it reads,
so an override addressed to the reader is exactly the indirect injection to stop. A plain
``curl https://...`` (a runbook's health check) passes; curl piped into a shell, or sending data
out, is blocked. A ``System: kestrel-41`` field label passes; a ``system:`` line that talks to
the model is blocked.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["GUARD_RULES", "GuardVerdict", "check_injection"]


@dataclass(frozen=True, slots=True)
class GuardVerdict:
    """Whether a text is blocked, by which rule, and the normalised words the rule matched."""

    blocked: bool
    rule: str  # "" when not blocked, else one of GUARD_RULES
    excerpt: str  # "" when not blocked


def check_injection(text: str) -> GuardVerdict:
    normal = _normalise(text) + "\n"  # so that "the end of the text" is a character a rule sees
    for rule in _RULES:
        span = rule.find(normal)
        if span is not None:
            excerpt = normal[span[0]:span[1]]
            return GuardVerdict(True, rule.id, excerpt.strip(" \n.,;:!?\"'")[:200] or excerpt)
    return _PASSED


# --- normalisation ---------------------------------------------------------------------------

# Characters that render as nothing: they split a phrase for a matcher but not for a model.
_INVISIBLE = dict.fromkeys(map(ord, (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)))
# After casefold, so only lower-case look-alikes: Cyrillic, Greek, a few Latin variants, quotes;
# and every other whitespace character to one space (NFKD has done the wide and narrow ones).
_LOOKALIKES = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "һ": "h",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l", "α": "a", "β": "b", "γ": "y", "ε": "e", "η": "n",
    "ι": "i", "κ": "k", "μ": "u", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    "ω": "w", "ϲ": "c", "ϳ": "j", "ı": "i", "ɡ": "g", "ɑ": "a", "’": "'", "‘": "'", "ʼ": "'",
    "“": '"', "”": '"', "\u2028": "\n", "\u2029": "\n",
    **dict.fromkeys("\t\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\u1680", " "),
})
# Three or more single letters, each pair joined by the same one separator: "i g n o r e"
# (letters only: "3.2.7" stays). The hint (separator first, so the scan skips ahead) is
# cheaper and finds every such run.
_SPELLED = re.compile(r"(?<![^\W_])[^\W\d_](?P<sep>[ .*-])[^\W\d_](?:(?P=sep)[^\W\d_])+"
                      r"(?![^\W_])")
_SPELLED_HINT = re.compile(r"[ .*-][^\W\d_][ .*-][^\W\d_](?![^\W_])")


def _normalise(text: str) -> str:
    if not text.isascii():  # the per-character pass costs more than all the rest
        decomposed = unicodedata.normalize("NFKD", text.translate(_INVISIBLE))
        text = "".join(char for char in decomposed if not unicodedata.combining(char))
    text = text.casefold().translate(_LOOKALIKES)
    # Before spaces collapse: a double space is where a spelled-out word ends.
    if _SPELLED_HINT.search(text):
        text = _SPELLED.sub(lambda match: match.group()[::2], text)
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


# --- matching --------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Clause:
    """Words that are an attack; with a ``lead``, only where the lead ends right before them
    (a lead is matched backwards from the words, so the scan itself starts at the words)."""

    words: re.Pattern[str]
    lead: re.Pattern[str] | None = None

    def find(self, text: str, start: int, end: int) -> tuple[int, int] | None:
        for match in self.words.finditer(text, start, end):
            if self.lead is None:
                return match.span()
            lead = self.lead.search(text, max(0, match.start() - _LEAD_REACH), match.start())
            if lead is not None:
                return lead.start(), match.end()
        return None


@dataclass(frozen=True, slots=True)
class _Rule:
    """One family: its id, its clauses, and words of which every match holds one."""

    id: str
    clauses: tuple[_Clause, ...]
    gates: tuple[str, ...]

    def find(self, text: str) -> tuple[int, int] | None:
        # Trying every clause at every position costs milliseconds on a document; the
        # neighbourhood of a gate word is enough.
        for start, end in _windows(text, self.gates):
            for clause in self.clauses:
                span = clause.find(text, start, end)
                if span is not None:
                    return span
        return None


_LEAD_REACH = 80  # characters a lead may span: "could you please kindly now ..."
_LONGEST = 250  # characters a match may span (the longest: curl and its arguments)


def _windows(text: str, gates: tuple[str, ...]) -> list[tuple[int, int]]:
    """Spans holding every match around a gate word, merged where they overlap."""
    windows: list[tuple[int, int]] = []
    upcoming = {gate: text.find(gate) for gate in gates}  # -1 once a gate is used up
    after = 0
    while True:
        for gate, at in upcoming.items():
            if 0 <= at < after:
                upcoming[gate] = text.find(gate, after)
        at = min((at for at in upcoming.values() if at != -1), default=-1)
        if at == -1:
            return windows
        start, end = max(0, at - 2 * _LONGEST), at + 2 * _LONGEST
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
        # A match around a gate word in the next _LONGEST characters still lies inside.
        after = at + _LONGEST


def _led(lead: re.Pattern[str], words: str) -> _Clause:
    return _Clause(re.compile(words, re.MULTILINE), lead)


def _plain(*alternatives: str) -> _Clause:
    return _Clause(re.compile("|".join(f"(?:{alt})" for alt in alternatives), re.MULTILINE))


def _rule(rule: str, clauses: tuple[_Clause, ...], gates: str) -> _Rule:
    return _Rule(rule, clauses, tuple(gates.split("|")))


# --- rules -----------------------------------------------------------------------------------

def _any(*words: str) -> str:
    return "(?:" + "|".join(words) + ")"


# Where an order stands: a sentence or clause start, a conjunction, or the assistant addressed
# ("could you", "you must", "i want you to"), then up to three of "please", "kindly", "now", ...
_FILLER = r"(?:" + _any("and", "then", "now", "so", "ok", "okay", "also", "first", "just",
                        "simply", "please", "pls", "kindly", "hey", "assistant", "ai", "bot",
                        "model") + r"\s*(?:,\s*)?){0,3}"
_YOU = _any(r"(?:could|can|would|will|won't|wouldn't|couldn't|can't)\s*you",
            r"you\s*(?:must|should|shall|will|need\s*to|have\s*to|are\s*to|are\s*going\s*to"
            r"|can|may|could)",
            r"i\s*(?:want|need|would\s*like|'d\s*like|order|command|instruct|ask|urge)\s*you\s*to",
            r"you\s*(?:are|'re)\s*(?:now\s*)?(?:allowed|permitted|free|instructed|required)\s*to",
            r"feel\s*free\s*to", r"go\s*ahead\s*and", r"make\s*sure\s*(?:to|you)")
# A quote counts only at a clause start: "attackers write 'ignore previous ...'" is a citation.
_ORDER = re.compile(r"(?:(?:^|[.!?;:,\n(\[{<>*•–—-])\s*[\"']?\s*|\b(?:and|then|but|so)\s+|\b"
                    + _YOU + r"\s*)" + _FILLER + r"\Z", re.MULTILINE)
_ASKING = re.compile(r"\b" + _any(r"(?:would|do)\s*you\s*mind", r"how\s*about", "try",
                                  r"start\s*by", r"begin\s*by", "consider", r"i\s*suggest")
                     + r"\s*" + _FILLER + r"\Z")

_QUALIFIER = _any("previous", "prior", "above", "earlier", "preceding", "foregoing", "former",
                  "original", "initial", "system", "safety", "hidden", "developer")
_RULE_NOUN = _any(r"instructions?", r"rules?", "guidance", r"guidelines?", r"directives?",
                  r"directions?",
                  r"prompts?", r"constraints?", r"polic(?:y|ies)", "programming",
                  r"restrictions?", r"guardrails?", r"(?:content\s*)?filters?")
_CLAUSE_END = r"(?=\s*(?:[.,;:!?)\n\"']|and|then|but|instead|now))"  # the text ends in "\n"
_OVERRIDDEN = _any(
    # the previous instructions, all prior rules, your system prompt
    r"(?:(?:all|any|every)\s*(?:of\s*)?)?(?:(?:the|your|my|these|those)\s*)?(?:"
    + _QUALIFIER + r"\s*){1,2}" + _RULE_NOUN,
    r"(?:(?:all|any)\s*(?:of\s*)?)?your\s*" + _RULE_NOUN,  # "your": the assistant's own
    r"(?:all|any|every)\s*(?:of\s*)?(?:the\s*)?(?:instructions|rules|guidelines)",
    # the instructions above, the rules you were given
    r"(?:the|all|any|your)\s*(?:of\s*the\s*)?" + _RULE_NOUN + r"\s*(?:above|so\s*far"
    r"|before\s*this|given\s*(?:to\s*you\s*)?(?:above|before|earlier|previously)"
    r"|you\s*(?:were|have\s*been|'ve\s*been)\s*given)",
    # ignore the above, forget everything before this line (not "ignore the above error")
    r"(?:the|everything|anything|all)\s*(?:that\s*(?:came|comes|was|is)\s*)?"
    r"(?:(?:written|said|stated|mentioned)\s*)?"
    r"(?:above|before|so\s*far|previously|earlier)(?:\s*(?:this|that|here)(?:\s*(?:line|point"
    r"|message|sentence|text))?)?" + _CLAUSE_END,
    r"(?:what(?:ever)?|everything|anything|all)\s*(?:that\s*)?you\s*(?:were|have\s*been|'ve"
    r"\s*been|had\s*been|got|are|'re)\s*(?:told|given|instructed|taught|programmed|trained)",
)
_OVERRIDE = (
    _led(_ORDER, _any("ignore", "disregard", "forget", "bypass", "override", "overrule",
                      "dismiss", "abandon", "neglect", r"set\s*aside", r"put\s*aside",
                      r"throw\s*out", r"stop\s*following", r"do\s*not\s*follow",
                      r"don't\s*follow", r"no\s*longer\s*follow") + r"\s*" + _OVERRIDDEN),
    _led(_ASKING, _any("ignoring", "disregarding", "forgetting", "bypassing", "overriding",
                       "dismissing", "abandoning", r"setting\s*aside", r"putting\s*aside")
         + r"\s*" + _OVERRIDDEN),
)

_SECRET = r"(?:" + _any("system", "hidden", "initial", "original", "secret", "internal",
                        "developer", "confidential", "starting", "underlying", "pre") + r"\s*)"
_WHOLE = r"(?:" + _any("full", "exact", "entire", "complete", "verbatim", "real", "actual",
                       "whole") + r"\s*){0,3}"
_PROMPT = _any(r"prompts?", r"instructions?", r"system\s*message", "programming", "preprompt",
               r"pre-prompt")
_REVEALED = _any(
    # your instructions, but not "your instructions for a failover" (a how-to question)
    r"(?:all\s*(?:of\s*)?)?your\s*" + _WHOLE + _SECRET + "{0,3}(?>" + _PROMPT
    + r")(?!\s*(?:for|on|about|regarding)\b)",
    # the system prompt, not "the system messages" (journald's)
    r"(?:the\s*)?" + _WHOLE + _SECRET + _any(r"prompts?", "instructions", r"message(?!s)"),
    # repeat everything above (this line), print the text at the start
    r"(?:everything|all|the\s*(?:text|words|content|message|lines?))\s*(?:(?:above|before)"
    r"(?:\s*(?:this|that|here)(?:\s*(?:line|message|point|text))?)?"
    r"|at\s*the\s*(?:start|beginning|top))"
    r"(?=\s*(?:[.,;:!?)\n\"']|verbatim|word|exactly|in\s*full|starting|including|and))",
)
_EXFILTRATE = (
    _led(_ORDER, _any("reveal", "print", "show", "display", "output", "repeat", "recite",
                      "dump", "leak", "disclose", "expose", "echo", "return", "write", "type",
                      "tell", "give", "share", "list", "spell", "paste", "copy", "provide")
         + r"\s*(?:(?:me|us)\s*)?(?:(?:out|back|again)\s*)?(?:what\s*)?" + _REVEALED),
    _plain(r"\bwhat\s*(?:is|are|was|were|'s)\s*your\s*" + _WHOLE + _SECRET + "{0,3}" + _PROMPT,
           r"\bwhat\s*(?:instructions|prompt)\s*(?:were|have)\s*you\s*(?:been\s*)?(?:given|told)"),
)

# "evil" and "rogue" only with an AI noun: chaos runbooks have rogue primaries and evil twins.
_UNBOUND = _any(r"jailbr[oe]a?ke?n?", "unrestricted", "unfiltered", "uncensored", "unaligned",
                "amoral", r"(?:evil|rogue|unbound|unchained|lawless|limitless)\s*(?:ai|assistant"
                r"|model|chatbot|bot|llm|version|persona)",
                r"free\s*(?:from|of)\s*(?:all\s*|any\s*)?(?:rules|restrictions|filters"
                r"|guidelines|limits|constraints)",
                r"no\s*longer\s*bound", r"without\s*(?:any\s*)?(?:rules|restrictions|filters"
                r"|limits|limitations|guidelines|censorship)")
_HIJACK = (_plain(
    r"\byou\s*(?:are|'re)\s*(?:now|from\s*now\s*on|going\s*to\s*be)\s*(?:(?:an?|the|my)\s*)?"
    r"(?:dan(?![a-z])|" + _UNBOUND + ")",
    r"\b(?:act|behave|respond|answer|operate|roleplay|role-play|function)\s*(?:as|like)\s*(?:if"
    r"\s*you\s*(?:are|were)\s*)?(?:(?:an?|the|completely|totally|fully|truly)\s*){0,3}"
    + _UNBOUND,
    r"\bfrom\s*now\s*on\b[^\n.]{0,60}?" + _UNBOUND,
    r"\bpretend\s*(?:that\s*)?(?:you\s*(?:are|were|have|had)|to\s*be)\s*(?:an?\s*)?(?:"
    + _UNBOUND + r"|no\s*(?:rules|restrictions|filters|guidelines|limits|limitations)"
    r"|not\s*bound)",
    # "Developer Mode enabled." is the jailbreak; "Is developer mode enabled on kestrel-41?" not
    r"\b(?:dan|jailbreak|developer|god|evil|unrestricted|unfiltered)\s*mode\s*(?:is\s*)?"
    r"(?:now\s*)?(?:enabled|activated|on|engaged)(?!\s*(?:on|for|in|at)\b)",
    r"\b(?:enable|activate|enter|turn\s*on|switch\s*to)\s*(?:the\s*)?(?:dan|jailbreak|god|evil"
    r"|unrestricted|unfiltered)\s*mode",
    r"\b(?:chatgpt|ai|assistant|model)\s*(?:with\s*)?developer\s*mode", r"do\s*anything\s*now",
    r"\byou\s*(?:have\s*no|(?:are|'re)\s*(?:not|no\s*longer)\s*bound\s*by|don't\s*have\s*to"
    r"\s*follow)\s*(?:any\s*|your\s*|the\s*)?(?:rules|restrictions|filters|guidelines|policies)",
),)

# A role label at a line start counts only when its line (or the next) talks to the model.
_TALKS_TO_MODEL = (r"(?=[^\n]{0,200}(?:\n[^\n]{0,200})?\b(?:you\s*(?:are|must|will|shall"
                   r"|should|have\s*to|need\s*to)|your\s*(?:new\s*)?(?:instructions|rules|task"
                   r"|role)|assistant|ignore|disregard|override|from\s*now\s*on|jailbr"
                   r"|unrestricted|comply|obey))")
_DELIMITER = (_plain(
    r"<\|\s*(?:im_start|im_end|im_sep|endoftext|system|user|assistant|end|eot_id"
    r"|start_header_id|end_header_id|begin_of_text|eom_id)\s*\|>",
    r"\[/?inst\]", r"<</?sys>>",
    r"</s>\s*(?:<s>|\[|<\||(?:system|user|assistant|human)\b)",  # not HTML's <s>old</s>
    r"^[ >*]*(?:\[|<)?(?:system|assistant|developer)(?:\s*(?:prompt|message|override))?"
    r"(?:\]|>)?\s*:" + _TALKS_TO_MODEL + r"[^\n]*",
    r"^#{1,6} *(?:system|system *(?:prompt|message|override)|new *instructions?) *:? *(?=\n)",
),)

_SECRETS = _any("conversation", r"chat(?:\s*(?:log|history))?", "history", "transcript",
                r"dialog(?:ue)?", r"system\s*prompt", r"your\s*(?:instructions|prompt)",
                r"previous\s*(?:answers|messages)",
                r"user(?:'s)?\s*(?:data|messages|questions|details)", r"personal\s*data", "pii",
                "secrets", "credentials", "passwords", r"api\s*keys", "above")
_SEND_OUT = (_plain(
    r"\b(?:send|post|upload|forward|exfiltrate|transmit|e-?mail|leak|submit|relay|beacon)\s*"
    r"(?:a\s*copy\s*of\s*)?(?:(?:the|this|our|my|your|all|any|entire|full|whole|of)\s*){0,4}"
    + _SECRETS + r"[^\n.]{0,40}?\s*to\s*(?:https?\s*:\s*/\s*/|www\.|\[email\]|[\w.+-]+@[\w-]+\."
    r"|(?:this|the\s*following|my|our|an?\s*external|the\s*attacker's?)\s*(?:url|server"
    r"|endpoint|webhook|address|site|domain))",
    r"\b(?:curl|wget)\b[^\n|]{0,200}\|\s*(?:sudo\s+)?(?:ba|z|k|da)?sh\b",  # curl ... | sh
    # not any $(...) or ${...}: runbooks pass tokens that way ("Bearer ${TOKEN}")
    r"\b(?:curl|wget)\b[^\n]{0,200}?(?:\$\(\s*(?:env|printenv)\s*\)|@/etc/|@~/|\.env\b|"
    r"(?:-d|--data[\w-]*|-f|--form|--post-data)\s*['\"]?@?[^\s'\"]*" + _SECRETS + ")",
    r"https?://[^\s)]*\{\{?\s*" + _SECRETS,  # a URL with the conversation templated into it
),)

_ENCODING = _any(r"base\s*-?\s*64", "b64", r"base\s*-?\s*32", r"rot\s*-?\s*13", "hex",
                 r"uu\s*-?\s*encoded", r"url\s*-?\s*encoded", "morse", "binary", "caesar")
# "... and follow it": the decoded text is to be obeyed, not just read
_OBEY = (r"(?:and|then|,)\s*(?:then\s*)?(?:please\s*)?(?:(?:follow|execute|run|carry\s*out"
         r"|act\s*on|do)\s*(?:it|them|what\s*it\s*says|whatever\s*it\s*says|(?:the|its)\s*(?:"
         r"decoded\s*)?(?:instructions?|commands?|contents?|result|output|message|payload))"
         r"|obey|comply)")
_ENCODED = (_plain(
    _ENCODING + r"\s*-?\s*(?:decode|decrypt|decipher|translate|convert)\b[^\n]{0,120}?" + _OBEY,
    r"\b(?:decode|decrypt|decipher|unscramble)\s*(?:this|it|the\s*following|the\s*(?:text"
    r"|string|message|payload)(?:\s*(?:below|above))?)[^\n]{0,120}?" + _OBEY,
    r"\b(?:decode|decrypt|decipher)\s*(?:and|&)\s*(?:then\s*)?(?:follow|execute|run|obey"
    r"|carry\s*out|act\s*on)",
    r"\b(?:follow|execute|obey|run|carry\s*out)\s*(?:the\s*)?" + _ENCODING
    + r"\s*-?\s*(?:encoded|decoded)?\s*(?:instructions|commands?|payload|text|message)",
),)

# Gates are plain substrings of the normalised text, so a joined "ignorepreviousinstructions"
# still holds "ignor"; a gate too broad only costs time, a missing one costs a detection.
_RULES = (
    _rule("override-instructions", _OVERRIDE,
          "ignor|disregard|forget|bypass|overrid|overrul|dismiss|abandon|neglect|aside|throw"
          "|follow"),
    _rule("reveal-system-prompt", _EXFILTRATE,
          "prompt|instruction|message|programming|above|before this|beforethis|before that"
          "|beforethat|start|beginning|top"),
    _rule("role-hijack", _HIJACK,
          "jailbr|unrestrict|unfilter|uncensor|unchain|unbound|unalign|amoral|evil|rogue"
          "|lawless|limitless|free|bound|without|dan|mode|anything|pretend|rules|restriction"
          "|filter|guideline|polic"),
    _rule("delimiter-injection", _DELIMITER,
          "<|[inst|[/inst|</s>|system|assistant|developer|instruction"),
    _rule("exfiltration", _SEND_OUT,
          "send|post|upload|forward|exfiltrat|transmit|mail|leak|submit|relay|beacon|curl"
          "|wget|{"),
    _rule("encoded-payload", _ENCODED,
          "decod|decrypt|deciph|unscrambl|base|b64|rot|hex|encoded|morse|binary|caesar"),
)
GUARD_RULES: tuple[str, ...] = tuple(rule.id for rule in _RULES)
_PASSED = GuardVerdict(False, "", "")
