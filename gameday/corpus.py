"""The RAG stack's labelled corpus: a fictional SRE knowledge base and incident reports,
generated from a seed (no downloads), with questions whose gold answer is a span of one
document, so answer quality can be measured under chaos.

A base document describes one service (``kestrel-41``) in 12 facts plus filler. Names come in
digit-swapped twins (``kestrel-41`` / ``kestrel-14``), stated in the same templates with other
values: hard negatives that only lexical matching separates. Questions paraphrase the
statement ("Which team looks after X?" for "X is maintained by the Amber Falcon team") so that
semantic matching has work to do. Only facts with many possible values are asked (team, port,
runbook, launch date, dependency), so an exact match means the right document was read.

Fresh documents are incident reports ingested during a run, one per sequence number: the
incident commander is a bijection of ``seq`` (no two of 2,304 consecutive seqs share one) and
no base document names a person, so only that report can answer. The question names the
incident's id (for lexical retrieval) and its codename (for vector retrieval).

Every answer-bearing sentence names its subject and is at most 15 words: with the stack's
15-word chunk overlap it lies whole in some chunk. Generated text holds no PII shapes (no
e-mails, long digit runs, phone numbers) for a redaction layer to mangle.
"""

from __future__ import annotations

import functools
import hashlib
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "MAX_BASE_DOCUMENTS",
    "Document",
    "Question",
    "base_documents",
    "base_questions",
    "fresh_document",
    "fresh_question",
    "is_relevant",
]


@dataclass(frozen=True, slots=True)
class Document:
    """One document to ingest; ``seq`` is the ingest sequence number of a fresh document."""

    doc_id: str  # "kb-000017" for base docs, "fresh-<run_key>-00000042" for numbered ingests
    title: str
    text: str  # plain prose, 100-160 words, sentences ending in "."
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class Question:
    """A question with its gold answer: a span exactly as it appears in ``doc_id``'s text."""

    qid: str  # "kb-000017-q2", "fresh-<run_key>-00000042-q0"
    text: str
    answer: str
    doc_id: str
    seq: int | None = None  # for a question about a fresh document: its seq


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _sentences(text: str) -> tuple[str, ...]:
    return tuple(" ".join(part.split()) + "." for part in text.split(".") if part.strip())


_SERVICE_WORDS = _words("""
    kestrel heron osprey plover curlew dunlin egret finch gannet grebe harrier ibis kite
    lapwing linnet nightjar oriole pipit puffin quail raven redstart rook shrike siskin skua
    snipe sparrow starling stork tern thrush wagtail warbler wren avocet bittern bunting chough
    crane dipper eider fulmar godwit kittiwake magpie petrel pochard scaup smew twite whimbrel
    wigeon basalt quartz cedar alder birch larch maple rowan aspen juniper cobble flint granite
    shale marble garnet beryl zircon mica pumice tundra delta fjord""")
_TEAM_ADJECTIVES = _words("""
    Amber Azure Bronze Cobalt Copper Coral Crimson Golden Indigo Ivory Jade Lilac Maroon Ochre
    Olive Onyx Pearl Ruby Saffron Scarlet Silver Slate Topaz Umber Violet Cerulean Emerald Sable
    Russet Obsidian Cinder Dusky Frosted Hollow Lunar Misty Northern Polar Quiet Rapid Solar
    Stormy Swift Tidal Velvet Wild Windy Bright""")
_TEAM_NOUNS = _words("""
    Falcon Otter Badger Lynx Fox Wolf Bear Hare Stoat Elk Moose Beaver Bison Cougar Jaguar
    Panther Puma Coyote Dingo Gecko Iguana Koala Lemur Mongoose Narwhal Ocelot Orca Panda
    Possum Raccoon Seal Tapir Walrus Weasel Wombat Yak Zebra Mantis Viper Cobra Marmot Ferret
    Jackal Hyena Bobcat Caribou Gazelle Ibex""")
_FIRST_NAMES = _words("""
    Mira Tomas Ines Kofi Lena Arjun Sofia Emeka Hana Mateo Yara Dmitri Priya Oskar Leila Kenji
    Amara Felix Noor Rafael Ingrid Tariq Elif Jonas Ayla Bruno Zara Nikhil Freya Hugo Selin Omar
    Greta Ravi Anouk Milan Esme Karim Talia Viktor Maren Idris Clara Luca Sana Pavel Rhea Anton""")
_LAST_NAMES = _words("""
    Okafor Lindqvist Moreau Tanaka Haddad Novak Castillo Brennan Mwangi Petrov Sato Alvarez
    Kowalski Nakamura Ferreira Osei Larsen Duarte Kaya Romano Bauer Achebe Varga Ibsen Quint
    Marlowe Hollis Strand Delacroix Ferrante Okonkwo Rasmussen Valdez Yilmaz Kuznetsov Lindgren
    Abara Castel Dorsey Eklund Fontaine Galloway Hartmann Iqbal Jensen Keller Laurent Mendez""")
_MONTHS = _words("January February March April May June July August September October "
                 "November December")
_REGIONS = _words("us-east-1 us-east-2 us-west-2 eu-west-1 eu-west-2 eu-central-1 eu-north-1 "
                  "ap-southeast-1 ap-southeast-2 ap-northeast-1 sa-east-1 ca-central-1")
_WEEKDAYS = _words("Monday Tuesday Wednesday Thursday Friday")
_DATABASES = ("PostgreSQL 15.6", "PostgreSQL 16.4", "PostgreSQL 17.2", "MySQL 8.0.36",
              "Redis 7.2", "Cassandra 4.1", "MongoDB 7.0", "CockroachDB 23.2", "ClickHouse 24.3")
_SLOS = ("99.5%", "99.9%", "99.95%", "99.99%")
_ROLES = ("request router", "metadata store", "feature cache", "ledger API", "session broker",
          "search indexer", "rate limiter", "model gateway", "event relay", "config service")
_DOMAINS = ("search", "payments", "recommendations", "checkout", "messaging", "analytics",
            "identity", "inventory", "media", "scheduling")
_PURPOSES = ("authentication", "rate limits", "feature flags", "object storage", "embeddings",
             "billing events", "schema lookups", "routing tables")

# Asked facts: statements, then question paraphrases (kept off the statements' wording).
_ASKED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "team": (("{name} is maintained by the {value} team.",
              "{name} is owned by the {value} team.",
              "Ownership of {name} sits with the {value} team."),
             ("Which team looks after {name}?", "Which team is responsible for {name}?",
              "Which team is in charge of {name}?")),
    "port": (("By default {name} accepts connections on port {value}.",
              "{name} listens on port {value} unless told otherwise.",
              "Clients reach {name} on port {value} by default."),
             ("What port does {name} listen on?", "Which port should a client use for {name}?",
              "What is the default listening port of {name}?")),
    "runbook": (("The recovery steps for {name} are written down in runbook {value}.",
                 "Operators handling a page for {name} follow runbook {value}.",
                 "{name} has its procedures documented under runbook {value}."),
                ("Which runbook covers {name}?", "What is the runbook id for {name}?",
                 "Which runbook explains how to recover {name}?")),
    "launch": (("{name} was first launched on {value}.", "{name} entered production on {value}.",
                "The first production release of {name} shipped on {value}."),
               ("When did {name} go live in production?", "On what date was {name} launched?",
                "Since when has {name} been in production?")),
    "dependency": (("{name} depends on the upstream service {value} for {purpose}.",
                    "{name} relies on {value}, an upstream service that provides {purpose}.",
                    "{name} uses the upstream service {value} for {purpose}."),
                   ("Which service does {name} depend on?",
                    "Which upstream service does {name} rely on?",
                    "What upstream service does {name} need?")),
}
_NAME = r"[a-z]+-\d{2}"
_MONTH = "|".join(_MONTHS)
# How base_questions reads an asked fact back from a document's text (dependency: by _NAME).
_READ_BACK = {
    "team": re.compile(r"[Tt]he ([A-Z][a-z]+ [A-Z][a-z]+) team\b"),
    "port": re.compile(r"\bport (\d{4})\b"),
    "runbook": re.compile(r"\brunbook (RB-\d{5})\b"),
    "launch": re.compile(rf"\b(\d{{1,2}} (?:{_MONTH}) \d{{4}})\b"),
}
_STATED = (("The primary region of {name} is {region}.", "{name} runs mainly in {region}."),
           ("The on-call rotation hands over every {weekday}.",
            "On-call shifts change on {weekday} mornings."),
           ("State is kept in {database}.", "{name} stores its data in {database}."),
           ("The availability target is {slo} over a rolling month.",
            "Its SLO promises that {slo} of requests succeed."),
           ("Logs are kept for {retention} days.", "Request logs are kept {retention} days."),
           ("Deploys happen {cadence}.", "New versions are deployed {cadence}."))
_CADENCES = ("every weekday", "twice a week", "once a week", "on demand after review")
_FILLER = _sentences("""
    Configuration changes are reviewed by two engineers before they are merged. Dashboards for
    latency and error rate are linked from the catalogue. Capacity is reviewed at the start of
    every quarter. Alerts page the primary on-call engineer first and the secondary after a
    delay. Secrets are rotated automatically and never stored in the repository. Load tests run
    against the staging environment before each major release. Feature flags gate every change
    that alters the request path. Error budgets are discussed at the weekly reliability review.
    Canaries take a small share of traffic before everyone else. Access to production requires
    a short-lived credential. Chaos experiments are scheduled with the owners in advance.
    Rollbacks start automatically when the canary error rate rises. Health checks probe a
    readiness endpoint rather than the root path. Retries use exponential backoff with jitter
    to avoid synchronised storms. Schema migrations are applied in backward compatible steps.
    Noisy alerts are tuned or removed after each on-call handover.""")
_MIN_WORDS, _MAX_WORDS = 100, 160


def _rng(*parts: object) -> random.Random:
    """A generator seeded from its parts by SHA-256: the same in every process (no ``hash()``)."""
    digest = hashlib.sha256("/".join(map(str, parts)).encode()).digest()
    return random.Random(int.from_bytes(digest, "big"))


@functools.cache
def _names(seed: int) -> tuple[str, ...]:
    """Every service name, digit-swapped twins side by side, in one seeded order, so that any
    count's corpus is a prefix of a larger one and most names have their twin in it."""
    groups: list[tuple[str, ...]] = []
    for word in _SERVICE_WORDS:
        for a in range(10):
            groups.append((f"{word}-{a}{a}",))
            groups.extend((f"{word}-{a}{b}", f"{word}-{b}{a}") for b in range(a + 1, 10))
    _rng("names", seed).shuffle(groups)
    return tuple(name for group in groups for name in group)


MAX_BASE_DOCUMENTS = len(_names(0))


def base_documents(count: int = 400, seed: int = 7) -> list[Document]:
    """The first ``count`` knowledge-base documents of the corpus ``seed`` names."""
    if not 0 <= count <= MAX_BASE_DOCUMENTS:
        raise ValueError(f"count must be in [0, {MAX_BASE_DOCUMENTS}], got {count}")
    names = _names(seed)
    return [_base_document(index, names, seed) for index in range(count)]


def _base_document(index: int, names: Sequence[str], seed: int) -> Document:
    rng = _rng("document", seed, index)
    name = names[index]
    role, domain = rng.choice(_ROLES), rng.choice(_DOMAINS)
    values = _asked_values(rng, name, names)
    purpose = rng.choice(_PURPOSES)
    sentences = [rng.choice(_ASKED[kind][0]).format(name=name, value=value, purpose=purpose)
                 for kind, value in values.items()]
    stated = {"region": rng.choice(_REGIONS), "weekday": rng.choice(_WEEKDAYS),
              "database": rng.choice(_DATABASES), "slo": rng.choice(_SLOS),
              "retention": rng.choice((7, 14, 30, 90)), "cadence": rng.choice(_CADENCES)}
    sentences += [rng.choice(pair).format(name=name, **stated) for pair in _STATED]
    intro = f"{name} is the {role} for the {domain} platform."
    sentences = _padded(rng, [intro], sentences, _FILLER)
    return Document(doc_id=f"kb-{index:06d}", title=f"{name}: {domain} {role}",
                    text=" ".join(sentences))


def _asked_values(rng: random.Random, name: str, names: Sequence[str]) -> dict[str, str]:
    dependency = name
    while dependency == name:  # drawn from every name: a popular dependency stays rare
        dependency = names[rng.randrange(len(names))]
    return {
        "team": f"{rng.choice(_TEAM_ADJECTIVES)} {rng.choice(_TEAM_NOUNS)}",
        "port": str(rng.randrange(3000, 10000)),  # not 19xx/20xx: no clash with launch years
        "runbook": f"RB-{rng.randrange(10000, 100000)}",
        "launch": f"{rng.randint(1, 28)} {rng.choice(_MONTHS)} {rng.randint(2016, 2024)}",
        "dependency": dependency,
    }


def _padded(rng: random.Random, head: list[str], facts: list[str], filler: Sequence[str], *,
            keep_order: bool = False) -> list[str]:
    """``head``, then the facts with enough filler among them for a target length; the facts
    shuffled too unless ``keep_order`` (an incident report reads as a story)."""
    target = rng.randint(_MIN_WORDS + 10, _MAX_WORDS - 10)
    count = sum(len(sentence.split()) for sentence in (*head, *facts))
    body = list(facts)
    if not keep_order:
        rng.shuffle(body)
    for sentence in rng.sample(list(filler), len(filler)):
        if count >= target:
            break
        if count + len(sentence.split()) <= _MAX_WORDS:
            body.insert(rng.randint(0, len(body)), sentence)
            count += len(sentence.split())
    return [*head, *body]


def base_questions(documents: Sequence[Document], per_document: int = 2,
                   seed: int = 7) -> list[Question]:
    """``per_document`` questions on each base document, about distinct facts read back from
    its text (so they fit whatever seed made the documents); ``seed`` picks facts and words."""
    if not 1 <= per_document <= len(_ASKED):
        raise ValueError(f"per_document must be in [1, {len(_ASKED)}], got {per_document}")
    questions: list[Question] = []
    for document in documents:
        rng = _rng("questions", seed, document.doc_id)
        name, facts = _read_back(document)
        for number, kind in enumerate(rng.sample(sorted(facts), per_document)):
            text = rng.choice(_ASKED[kind][1]).format(name=name)
            questions.append(Question(qid=f"{document.doc_id}-q{number}", text=text,
                                      answer=facts[kind], doc_id=document.doc_id))
    return questions


def _read_back(document: Document) -> tuple[str, dict[str, str]]:
    name = document.title.split(":", 1)[0]
    facts = {kind: match.group(1) for kind, pattern in _READ_BACK.items()
             if (match := pattern.search(document.text))}
    others = [found for found in re.findall(rf"\b{_NAME}\b", document.text) if found != name]
    if others:
        facts["dependency"] = others[0]
    if document.seq is not None or len(facts) != len(_ASKED):
        raise ValueError(f"{document.doc_id} is not a base document (facts found: "
                         f"{sorted(facts)})")
    return name, facts


_PEOPLE = len(_FIRST_NAMES) * len(_LAST_NAMES)
_STRIDE = 1009  # prime: seq -> commander (codename) is one-to-one over _PEOPLE (_CODENAMES)
#                 consecutive seqs, and neighbouring seqs differ in both words
# no 13-digit run: a redaction layer would take the incident id for a card number
_RUN_KEY = re.compile(r"(?!.*\d{13})[A-Za-z0-9][A-Za-z0-9-]{0,31}")
_FRESH_SERVICES = 400  # incidents happen to services of the default base corpus (seed 7)
_SYMPTOMS = ("returned errors for a share of requests", "slowed down under load",
             "stopped accepting writes", "served stale results", "dropped connections")
_CAUSES = ("an expired certificate on the internal load balancer",
           "a connection pool sized too small after a migration",
           "a configuration push that disabled the read replicas",
           "a full disk on the primary database host", "a retry storm from one client",
           "a DNS record that pointed at a drained region", "a memory leak in the parser")
_ACTIONS = ("rolling back the last release", "failing over to the standby region",
            "raising the connection pool limit", "renewing the certificate",
            "draining the unhealthy nodes", "restoring the previous configuration")
_CODE_ADJECTIVES = _words("""
    Silent Broken Hidden Frozen Burning Drifting Falling Muted Iron Paper Glass Rusty Sunken
    Twisted Wandering Whispering Crooked Distant Empty Fading Gentle Heavy Lonely Narrow Restless
    Scattered Shallow Sleeping Tangled Thin Vanishing Weary Yellow Bitter Cold Dark Faint Grey""")
_CODE_NOUNS = _words("""
    Harbour Lantern Bridge Canyon Orchard Meadow Lighthouse Anchor Compass Tunnel Mill Quarry
    Glacier Island Beacon Chimney Cellar Ferry Garden Harp Kettle Ladder Mirror Needle Pillar
    Ribbon Saddle Tower Valley Violin Whistle Window Spindle Bell Cradle Drum Engine Fountain""")
_CODENAMES = len(_CODE_ADJECTIVES) * len(_CODE_NOUNS)
# The codename gives the vector retriever words to match: an id like INC-r7-000042 embeds
# much like every other incident id, so without it only lexical retrieval finds a report.
_COMMANDER_QUESTIONS = ("Who was the incident commander for {incident}, the {codename} outage?",
                        "Who took command of {incident}, the {codename} outage?",
                        "Which engineer was in command during {incident}, the {codename} outage?")
_INCIDENT_FILLER = _sentences("""
    Alerts fired within a few minutes of the first errors. A timeline was kept in the incident
    channel as the response went on. Status page updates went out every half hour until the
    end. No data was lost during the incident. Follow-up work was filed with the owning team
    the same week. Dashboards showed the error rate falling right after the fix. The postmortem
    was reviewed at the weekly reliability meeting. The on-call engineer escalated when the
    first mitigation did not help. Upstream callers retried with backoff, which kept the load
    bounded. Two alerts were found to be too noisy and were tuned afterwards. A game day to
    rehearse the same failure was added to the plan. Customer support was briefed before the
    first status update.""")


def _incident(seq: int, run_key: str) -> tuple[str, str, str]:
    """The incident id, its commander and its codename (bijections of seq, offset by the run
    key)."""
    if seq < 0:
        raise ValueError(f"seq must be >= 0, got {seq}")
    if not _RUN_KEY.fullmatch(run_key):
        raise ValueError(f"run_key must be 1-32 letters, digits or hyphens, not starting "
                         f"with a hyphen nor holding 13 digits in a row, got {run_key!r}")
    offset = _rng("run", run_key).randrange(_PEOPLE * _CODENAMES)
    first, last = divmod((seq * _STRIDE + offset) % _PEOPLE, len(_LAST_NAMES))
    adjective, noun = divmod((seq * _STRIDE + offset) % _CODENAMES, len(_CODE_NOUNS))
    return (f"INC-{run_key}-{seq:06d}", f"{_FIRST_NAMES[first]} {_LAST_NAMES[last]}",
            f"{_CODE_ADJECTIVES[adjective]} {_CODE_NOUNS[noun]}")


def _fresh_id(seq: int, run_key: str) -> str:
    return f"fresh-{run_key}-{seq:08d}"


def fresh_document(seq: int, run_key: str) -> Document:
    """The incident report ingested as number ``seq`` of the run ``run_key`` names."""
    incident, commander, codename = _incident(seq, run_key)
    rng = _rng("fresh", run_key, seq)
    service = _names(7)[rng.randrange(_FRESH_SERVICES)]
    day = f"{rng.randint(2023, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    facts = [f"On {day} {service} {rng.choice(_SYMPTOMS)} in the {codename} outage.",
             f"During {incident}, the {codename} outage, the incident commander was {commander}.",
             f"Root cause: {rng.choice(_CAUSES)}.",
             f"{incident} was resolved by {rng.choice(_ACTIONS)}.",
             f"Impact lasted {rng.randint(4, 95)} minutes before {service} met its SLO again."]
    sentences = _padded(rng, [], facts, _INCIDENT_FILLER, keep_order=True)
    return Document(doc_id=_fresh_id(seq, run_key), title=f"{incident} on {service}",
                    text=" ".join(sentences), seq=seq)


def fresh_question(seq: int, run_key: str) -> Question:
    """Who commanded incident ``seq``: only ``fresh_document(seq, run_key)`` can answer."""
    incident, commander, codename = _incident(seq, run_key)
    template = _COMMANDER_QUESTIONS[seq % len(_COMMANDER_QUESTIONS)]
    doc_id = _fresh_id(seq, run_key)
    return Question(qid=f"{doc_id}-q0",
                    text=template.format(incident=incident, codename=codename),
                    answer=commander, doc_id=doc_id, seq=seq)


def is_relevant(question: Question, doc_id: str, chunk_text: str) -> bool:
    """Whether a retrieved chunk is a gold passage: it belongs to the gold document and holds
    the answer as whole words (casefolded, whitespace collapsed), wherever chunks were cut."""
    answer = _folded(question.answer)
    if doc_id != question.doc_id or not answer:
        return False
    chunk = _folded(chunk_text)
    # whole words: port 4821 is not in "RB-48213", nor kestrel-14 in "kestrel-141"
    return answer in chunk and re.search(rf"(?<!\w){re.escape(answer)}(?!\w)", chunk) is not None


def _folded(text: str) -> str:
    return " ".join(text.casefold().split())
