#!/usr/bin/python3
"""Helper of leave_one_source_out.sh: lists the sources, splits the rows, prints the table.

  loso_table.py sources HELDOUT
      Public sources (every `authored/*` source is ours and is never left out) whose
      held-out rows have >= 10 positives in at least one category, most held-out rows
      first (the largest sources first, for runs cut short). One name a line.
  loso_table.py split TRAIN HELDOUT SOURCE OUT_DIR
      Writes OUT_DIR/train.jsonl (every training row whose `source` is not SOURCE, in the
      original order) and OUT_DIR/heldout.jsonl (the held-out rows of SOURCE), and prints
      how many rows of SOURCE each file holds (the training file must hold 0).
  loso_table.py table TRAIN LOSO_DIR SOURCE...
      Reads LOSO_DIR/SOURCE/eval_seen.txt (`classifier eval` of the shipped model) and
      eval_unseen.txt (the model trained without SOURCE) and prints one Markdown table:
      per source and per category with >= 10 held-out positives, the training positives
      of SOURCE and of all other sources (from the full TRAIN file), AUPRC, and F1 and
      recall at the model's own thresholds, seen -> unseen, and a per-source macro over
      those categories. AUPRC and F1 are n/a where the source's held-out rows have no
      negative for the category (sources of harmful prompts only): only recall is defined.

Standard library only. Rows are matched on the parsed `source` field, not by text search.
"""
import json
import os
import sys

MIN_POSITIVES = 10


def read_rows(path):
    with open(path, encoding="utf-8") as f:
        for line_number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield line, json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{line_number}: not JSON: {e}")


def is_ours(source):
    return source.startswith("authored/")


def list_sources(heldout):
    """Public sources with >= MIN_POSITIVES held-out positives in some category."""
    rows = {}
    positives = {}
    for _, row in read_rows(heldout):
        source = row.get("source", "")
        if is_ours(source):
            continue
        rows[source] = rows.get(source, 0) + 1
        unknown = set(row.get("unknown", []))
        counts = positives.setdefault(source, {})
        for category in row.get("categories", []):
            if category not in unknown:
                counts[category] = counts.get(category, 0) + 1
    eligible = [s for s in rows if max(positives[s].values(), default=0) >= MIN_POSITIVES]
    skipped = sorted(s for s in rows if s not in eligible)
    print("skipped (< %d held-out positives in every category): %s"
          % (MIN_POSITIVES, " ".join(skipped)), file=sys.stderr)
    for source in sorted(eligible, key=lambda s: (-rows[s], s)):
        print(source)


def split(train, heldout, source, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    kept = removed = 0
    with open(os.path.join(out_dir, "train.jsonl"), "w", encoding="utf-8") as out:
        for line, row in read_rows(train):
            if row.get("source") == source:
                removed += 1
            else:
                out.write(line)
                kept += 1
    held = 0
    with open(os.path.join(out_dir, "heldout.jsonl"), "w", encoding="utf-8") as out:
        for line, row in read_rows(heldout):
            if row.get("source") == source:
                out.write(line)
                held += 1
    # Count again from the written file: the check reads what training will read.
    left = sum(1 for _, row in read_rows(os.path.join(out_dir, "train.jsonl"))
               if row.get("source") == source)
    print(f"{source}: {removed} training rows removed, {kept} kept; "
          f"rows of {source} in the training file: {left}; held-out rows: {held}")
    if left != 0 or removed == 0 or held == 0:
        sys.exit(f"{source}: bad split (left {left}, removed {removed}, held-out {held})")


def number(field):
    """A float, or None for '-' (undefined: the rows have no negatives for the category)."""
    return None if field == "-" else float(field)


def parse_eval(path):
    """Returns {category: (positives, f1, auprc, recall)} from the '== all sources' table.

    F1 and AUPRC are None when the source's rows hold no negative for the category (a
    source of harmful prompts only): then only recall at the threshold is defined."""
    result = {}
    in_table = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("== all sources"):
                in_table = True
                continue
            if not in_table:
                continue
            if line.startswith("macro AUPRC") or line.startswith("=="):
                break
            fields = line.split()
            if len(fields) < 7 or fields[0] == "category":
                continue
            try:
                positives = int(fields[1])
                recall, f1, auprc = number(fields[4]), number(fields[5]), number(fields[6])
            except ValueError:
                continue
            result[fields[0]] = (positives, f1, auprc, recall)
    if not result:
        sys.exit(f"{path}: no '== all sources' table")
    return result


def mean(values):
    """Mean of the defined values, None if there is none."""
    defined = [v for v in values if v is not None]
    return sum(defined) / len(defined) if defined else None


def change(seen, unseen, signed=False):
    if seen is None or unseen is None:
        return "n/a (no negatives)"
    text = f"{seen:.3f} → {unseen:.3f}"
    return text + f" ({unseen - seen:+.3f})" if signed else text


def bold(text):
    return f"**{text}**" if text else ""


def training_positives(train):
    """{source: {category: training positives}} of the full training file."""
    counts = {}
    for _, row in read_rows(train):
        unknown = set(row.get("unknown", []))
        per_source = counts.setdefault(row.get("source", ""), {})
        for category in row.get("categories", []):
            if category not in unknown:
                per_source[category] = per_source.get(category, 0) + 1
    return counts


def table(train, loso_dir, sources):
    positives = training_positives(train)
    print("| source S | category | held-out pos | training pos: S / other sources "
          "| AUPRC seen → unseen | F1 seen → unseen | recall seen → unseen |")
    print("|---|---|---|---|---|---|---|")
    macros = []
    for source in sources:
        seen = parse_eval(os.path.join(loso_dir, source, "eval_seen.txt"))
        unseen = parse_eval(os.path.join(loso_dir, source, "eval_unseen.txt"))
        rows = [(c, seen[c], unseen[c]) for c in seen
                if seen[c][0] >= MIN_POSITIVES and c in unseen]
        if not rows:
            continue
        for category, (pos, f1_s, ap_s, rec_s), (_, f1_u, ap_u, rec_u) in rows:
            own = positives.get(source, {}).get(category, 0)
            other = sum(p.get(category, 0) for s, p in positives.items() if s != source)
            print(f"| {source} | {category} | {pos} | {own} / {other} "
                  f"| {change(ap_s, ap_u, True)} "
                  f"| {change(f1_s, f1_u)} | {change(rec_s, rec_u)} |")
        # (AUPRC, F1, recall) x (seen, unseen), each over the categories where defined.
        macro = [mean(r[side][index] for r in rows) for index in (2, 1, 3) for side in (1, 2)]
        macros.append(macro)
        print(f"| {bold(source)} | {bold(f'macro ({len(rows)})')} | | "
              f"| {bold(change(macro[0], macro[1], True))} | {bold(change(macro[2], macro[3]))} "
              f"| {bold(change(macro[4], macro[5]))} |")
    if macros:
        overall = [mean(m[i] for m in macros) for i in range(6)]
        with_auprc = sum(1 for m in macros if m[0] is not None)
        print(f"| **mean of the source macros** | ({with_auprc} sources with AUPRC, "
              f"{len(macros)} with recall) | | | {bold(change(overall[0], overall[1], True))} "
              f"| {bold(change(overall[2], overall[3]))} "
              f"| {bold(change(overall[4], overall[5]))} |")


def main(argv):
    if len(argv) >= 3 and argv[1] == "sources":
        list_sources(argv[2])
    elif len(argv) == 6 and argv[1] == "split":
        split(*argv[2:])
    elif len(argv) >= 4 and argv[1] == "table":
        table(argv[2], argv[3], argv[4:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
