"""Scores English text normalizers on tests/data/tn/quality.tsv (hand-checked human readings).

The table has a header line and columns category<TAB>input<TAB>expected; `expected` lists the
acceptable readings of the whole sentence separated by " | ". An output is correct when its
canonical form equals the canonical form of any alternative. Canonical form: curly apostrophes
become ', lower case, hyphens and dashes become spaces, every other character that is neither a
letter, a digit, a space nor an apostrophe inside a word is dropped, spaces are collapsed.
Nothing else is forgiven: "and", "o'clock", "p m" vs "pm" count only where the table lists them.
--spell-capitals additionally reads every all-capital token of 2 to 5 letters in the OUTPUT letter
by letter ("WWW" -> "w w w", "US" -> "u s"), as a TTS front end that spells such tokens would; it
is a separate view, not the default score.

Run:
  python tests/tools/tn_quality.py --nemo [--wetext] [--command "build/dev/vibevoice normalize --model DIR"]
                                   [--table PATH] [--show-failures] [--spell-capitals]
--nemo    nemo_text_processing (Normalizer(input_case='cased', lang='en', deterministic=True,
          cache_dir=$TN_NEMO_CACHE or /tmp/tn/cache, post_process=True).normalize(line, punct_post_process=False))
--wetext  WeTextProcessing's English TN (tn.english.normalizer.Normalizer().normalize(line))
--command any program that reads lines on stdin and prints one normalized line per input line
The scoring part (load_table, canonical, score) uses the standard library only.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys
from collections import OrderedDict

TABLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "tn", "quality.tsv")
NEMO_CACHE = os.environ.get("TN_NEMO_CACHE", "/tmp/tn/cache")


def load_table(path=TABLE):
    """Returns a list of dicts {category, input, expected: [alternatives]} in table order."""
    rows = []
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        if header != ["category", "input", "expected"]:
            raise ValueError(f"{path}: unexpected header {header}")
        for n, line in enumerate(f, start=2):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            cols = line.split("\t")
            if len(cols) != 3:
                raise ValueError(f"{path}:{n}: expected 3 tab-separated columns, got {len(cols)}")
            alternatives = [a.strip() for a in cols[2].split(" | ") if a.strip()]
            rows.append({"category": cols[0], "input": cols[1], "expected": alternatives})
    return rows


def canonical(text):
    text = text.replace("\u2019", "'").replace("\u2018", "'").lower()
    text = re.sub(r"[-\u2010-\u2015]", " ", text)
    text = "".join(c for c in text if c.isalnum() or c.isspace() or c == "'")
    text = re.sub(r"(?<![^\W_])'|'(?![^\W_])", "", text)  # keep ' only between two letters/digits
    return " ".join(text.split())


def spell_capitals(text):
    return re.sub(r"\b[A-Z]{2,5}\b", lambda m: " ".join(m.group(0)), text)


def score(rows, normalize_fn, batch=False, spell=False):
    """normalize_fn maps one input string to its output (batch=True: a list of inputs to a list);
    spell=True applies spell_capitals to each output before comparing.

    Returns (correct, total, failures); failures are dicts {category, input, expected, output}."""
    inputs = [r["input"] for r in rows]
    outputs = list(normalize_fn(inputs)) if batch else [normalize_fn(s) for s in inputs]
    if len(outputs) != len(inputs):
        raise ValueError(f"{len(outputs)} outputs for {len(inputs)} inputs")
    failures = []
    for row, out in zip(rows, outputs):
        if canonical(spell_capitals(out) if spell else out) not in {canonical(a) for a in row["expected"]}:
            failures.append(dict(row, output=out))
    return len(rows) - len(failures), len(rows), failures


def nemo_normalizer():
    from importlib.metadata import version
    from nemo_text_processing.text_normalization.normalize import Normalizer

    n = Normalizer(input_case="cased", lang="en", deterministic=True, cache_dir=NEMO_CACHE, post_process=True)
    return (f"nemo_text_processing {version('nemo_text_processing')}",
            lambda s: n.normalize(s, punct_post_process=False), False)


def wetext_normalizer():
    from importlib.metadata import version
    from tn.english.normalizer import Normalizer

    n = Normalizer()
    return f"WeTextProcessing {version('WeTextProcessing')}", n.normalize, False


def command_normalizer(cmd):
    def run(lines):
        if any("\n" in s for s in lines):
            raise ValueError("inputs must be single lines")
        p = subprocess.run(shlex.split(cmd), input="".join(s + "\n" for s in lines),
                           capture_output=True, text=True, encoding="utf-8", check=False)
        if p.returncode != 0:
            raise RuntimeError(f"{cmd!r} exited with {p.returncode}: {p.stderr.strip()}")
        out = p.stdout.split("\n")
        if out and out[-1] == "":
            out.pop()
        if len(out) != len(lines):
            raise RuntimeError(f"{cmd!r} printed {len(out)} lines for {len(lines)} inputs")
        return out

    return cmd, run, True


def report(name, normalize_fn, batch, rows, show_failures, spell=False, out=sys.stdout):
    correct, total, failures = score(rows, normalize_fn, batch, spell)
    name += " (capitals spelled)" if spell else ""
    per = OrderedDict()
    for r in rows:
        per.setdefault(r["category"], [0, 0])[1] += 1
    for f in failures:
        per[f["category"]][0] += 1
    print(f"{name}: {correct}/{total} ({100.0 * correct / total:.1f}%)", file=out)
    for cat, (bad, n) in per.items():
        print(f"  {cat:<14} {n - bad:>3}/{n:<3} ({100.0 * (n - bad) / n:5.1f}%)", file=out)
    if show_failures:
        for f in failures:
            print(f"  [{f['category']}] {f['input']}\n      got:      {f['output']}\n"
                  f"      expected: {f['expected'][0]}"
                  + (f"  (+{len(f['expected']) - 1} alternatives)" if len(f["expected"]) > 1 else ""), file=out)
    return correct, total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--table", default=TABLE)
    ap.add_argument("--nemo", action="store_true", help="score nemo_text_processing (Python)")
    ap.add_argument("--wetext", action="store_true", help="score WeTextProcessing's English normalizer")
    ap.add_argument("--command", action="append", default=[], metavar="CMD",
                    help="score a program reading lines on stdin, printing one line each (repeatable)")
    ap.add_argument("--show-failures", action="store_true")
    ap.add_argument("--spell-capitals", action="store_true", help="read all-capital tokens of 2-5 letters as letters")
    args = ap.parse_args(argv)
    makers = ([nemo_normalizer] if args.nemo else []) + ([wetext_normalizer] if args.wetext else [])
    makers += [lambda c=c: command_normalizer(c) for c in args.command]
    if not makers:
        ap.error("choose at least one of --nemo, --wetext, --command")
    rows = load_table(args.table)
    for make in makers:
        report(*make(), rows=rows, show_failures=args.show_failures, spell=args.spell_capitals)
    return 0


if __name__ == "__main__":
    sys.exit(main())
