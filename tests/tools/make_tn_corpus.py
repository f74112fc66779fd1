"""Writes tests/data/tn/corpus.jsonl, the exact-equality reference for the C++ port of the English
text normalizer (nemo_text_processing's grammars exported as FSTs).

Line 1: {"generator": ..., "nemo_text_processing": VERSION, "pynini": VERSION}
Then one object per input: {"category": C, "input": TEXT, "nemo": OUTPUT}, OUTPUT computed with
  Normalizer(input_case='cased', lang='en', deterministic=True, cache_dir=CACHE,
             post_process=True).normalize(TEXT, punct_post_process=False)
Inputs: generated with a fixed seed (numbers, money, dates, times, measures, phones, emails, URLs,
abbreviations inside short template sentences), hand-written edge cases, and 100 plain sentences
without digits or symbols taken from ../shared/data/text/*.txt ("Speaker N:" labels stripped), which
nemo leaves unchanged. "category" is informative only. An input that makes nemo raise or that takes
longer than --max-seconds is dropped and reported on stderr (none is, with nemo 1.2.0).
The output is deterministic: running the generator twice gives the same file.

Run (in a venv with nemo_text_processing 1.2.0 and pynini 2.1.6.post1):
  python tests/tools/make_tn_corpus.py [--cache-dir /tmp/tn/cache] [--text-dir ../shared/data/text]
"""
import argparse
import json
import pathlib
import random
import re
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "data" / "tn" / "corpus.jsonl"
SEED = 20240611

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
MON_ABBR = ["Jan.", "Feb.", "Mar.", "Apr.", "May", "Jun.", "Jul.", "Aug.", "Sep.", "Oct.", "Nov.", "Dec."]
NAMES = ["john", "jane.doe", "a.smith", "info", "support", "m_jones", "sales2024", "li.wei", "contact"]
DOMAINS = ["example.com", "example.org", "mail.net", "company.co.uk", "uni.edu", "startup.io", "gov.uk"]
UNITS = ["km", "m", "cm", "mm", "kg", "g", "mg", "lb", "lbs", "oz", "mi", "mph", "km/h", "ft", "yd",
         "°F", "°C", "%", "ml", "l", "L", "GB", "MB", "TB", "kB", "GHz", "MHz", "Hz", "kW", "W", "V",
         "sq ft", "m²", "h", "hrs", "min", "s", "ms", "kWh", "mA", "ha", "cc", "nm", "μm"]
ABBREVIATIONS = [
    "Dr. Brown", "Mr. Lee", "Mrs. Patel", "Ms. Garcia", "Prof. Kim", "Sen. Warren", "Gen. Grant",
    "Capt. Hook", "St. Patrick", "Mt. Everest", "Ft. Worth", "Jr.", "Sr.", "Inc.", "Ltd.", "Corp.",
    "e.g.", "i.e.", "etc.", "vs.", "approx.", "No. 5", "U.S.", "U.K.", "a.m.", "Ave.", "Blvd.", "Rd.",
]


def suffix(n):
    if n % 100 in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")


def number(rng, commas=None):
    n = rng.choice([rng.randint(0, 20), rng.randint(21, 999), rng.randint(1000, 99999),
                    rng.randint(100000, 9999999), rng.randint(10**7, 10**10)])
    if commas is None:
        commas = rng.random() < 0.6
    return f"{n:,}" if commas else str(n)


def decimal(rng):
    whole = rng.choice([0, rng.randint(1, 9), rng.randint(10, 999), rng.randint(1000, 50000)])
    frac = str(rng.randint(0, 10 ** rng.randint(1, 3) - 1)).zfill(rng.randint(1, 3))
    s = f"{whole}.{frac}"
    return s[1:] if whole == 0 and rng.random() < 0.3 else s


def generated(rng):
    """Yields (category, input) pairs."""
    cardinal = ["There were {} people at the event.", "The total came to {}.", "{} is the number.",
                "We counted {} birds today.", "The score was {} to {}.", "Room {} is on the left.",
                "It fell by -{} points.", "She read {} pages and wrote {} words."]
    for i in range(45):
        t = cardinal[i % len(cardinal)]
        yield "cardinal", t.format(*(number(rng) for _ in range(t.count("{}"))))
    ordinal = ["She finished {} in the race.", "It is the {} time this year.", "Take the {} exit.",
               "The {} century was long.", "His {} birthday is soon.", "We won the {} and {} games."]
    for i in range(35):
        t = ordinal[i % len(ordinal)]
        vals = []
        for _ in range(t.count("{}")):
            n = rng.choice([rng.randint(1, 31), rng.randint(32, 199), rng.randint(200, 2000)])
            vals.append(f"{n}{suffix(n)}")
        yield "ordinal", t.format(*vals)
    dec = ["Pi is about {}.", "The rate was {} last year.", "It measured {} on the scale.",
           "The value dropped to -{}.", "{} is the answer.", "Growth reached {} overall."]
    for i in range(35):
        yield "decimal", dec[i % len(dec)].format(decimal(rng))
    frac = ["Add {} cup of milk.", "About {} of them agreed.", "It took {} hours.", "Cut it into {} pieces.",
            "Only {} of the votes were counted."]
    for i in range(30):
        d = rng.choice([2, 3, 4, 5, 8, 10, 16, 32, 100])
        f = f"{rng.randint(1, d - 1)}/{d}"
        yield "fraction", frac[i % len(frac)].format(f if rng.random() < 0.6 else f"{rng.randint(1, 12)} {f}")
    money = ["It costs {}.", "The rent is {} a month.", "They raised {} last year.", "{} was the price.",
             "The fine was {}, not {}.", "Tickets start at {} each."]
    for i in range(60):
        t = money[i % len(money)]
        vals = []
        for _ in range(t.count("{}")):
            sym = rng.choice("$$$£€¥")
            kind = rng.randint(0, 4)
            if kind == 0:
                amount = f"{rng.randint(0, 99)}.{rng.randint(0, 99):02d}"
            elif kind == 1:
                amount = f"{rng.randint(1, 999999):,}"
            elif kind == 2:
                amount = f"{rng.randint(1, 99)}.{rng.randint(1, 9)} {rng.choice(['million', 'billion', 'trillion'])}"
            elif kind == 3:
                amount = f"0.{rng.randint(1, 99):02d}"
            else:
                amount = f"{rng.randint(1, 9999)}"
            vals.append(sym + amount)
        yield "money", t.format(*vals)
    for i in range(70):
        y, m, d = rng.randint(1700, 2099), rng.randint(1, 12), rng.randint(1, 28)
        forms = [f"{MONTHS[m - 1]} {d}, {y}", f"{MON_ABBR[m - 1]} {d}, {y}", f"{d} {MONTHS[m - 1]} {y}",
                 f"{y}-{m:02d}-{d:02d}", f"{m}/{d}/{y}", f"{MONTHS[m - 1]} {d}{suffix(d)}",
                 f"the {y // 10 * 10}s", f"{MONTHS[m - 1]} {y}", f"{y}", f"the {d}{suffix(d)} of {MONTHS[m - 1]}"]
        item = forms[i % len(forms)]
        yield "date", rng.choice(["It happened on {}.", "The meeting is {}.", "{} was a Monday.",
                                  "We moved there in {}.", "Born {}, she grew up fast."]).format(item)
    for i in range(45):
        h24, mi = rng.randint(0, 23), rng.choice([0, 5, 15, 30, 45, rng.randint(0, 59)])
        h12 = h24 % 12 or 12
        forms = [f"{h12}:{mi:02d} pm", f"{h12}:{mi:02d} a.m.", f"{h12}:{mi:02d} PM", f"{h24:02d}:{mi:02d}",
                 f"{h12} a.m.", f"{h12}pm", f"{h12}:{mi:02d}", f"{h12}:{mi:02d} p.m. EST", f"{h24}:{mi:02d}:{rng.randint(0, 59):02d}"]
        yield "time", rng.choice(["The train leaves at {}.", "Meet me at {} sharp.", "At {} we left.",
                                  "The shop closes at {}"]).format(forms[i % len(forms)])
    for i in range(70):
        unit = UNITS[i % len(UNITS)]
        value = rng.choice([str(rng.randint(1, 999)), decimal(rng), f"{rng.randint(1, 99999):,}"])
        sep = "" if unit in ("%", "°F", "°C") or rng.random() < 0.2 else " "
        yield "measure", rng.choice(["It is {} long.", "The reading was {}.", "{} in total.",
                                     "We need about {} of it."]).format(value + sep + unit)
    for i in range(35):
        a, b, c = rng.randint(200, 999), rng.randint(200, 999), rng.randint(0, 9999)
        forms = [f"{a}-{b}-{c:04d}", f"({a}) {b}-{c:04d}", f"+1 {a} {b} {c:04d}", f"1-800-{b}-{c:04d}",
                 f"{a}.{b}.{c:04d}", f"+44 20 {rng.randint(1000, 9999)} {c:04d}", f"+1-{a}-{b}-{c:04d}"]
        yield "phone", rng.choice(["Call {} today.", "My number is {}.", "{} is the hotline.",
                                   "Fax it to {}, please."]).format(forms[i % len(forms)])
    for i in range(40):
        name, dom = rng.choice(NAMES), rng.choice(DOMAINS)
        path = rng.choice(["", "/docs", "/a/b", "/index.html", "/search?q=tts", "/user/repo"])
        forms = [f"{name}@{dom}", f"https://www.{dom}{path}", f"http://{dom}{path}", f"www.{dom}",
                 f"{dom}{path}"]
        yield "electronic", rng.choice(["Email {} for help.", "Visit {} now.", "See {}.",
                                        "{} has the details."]).format(forms[i % len(forms)])
    for i, abbr in enumerate(ABBREVIATIONS):
        yield "abbreviation", ["We met {} yesterday.", "Then came {} and the others.",
                               "She said {} twice."][i % 3].format(abbr)


EDGE = [
    "On Jan. 5, 2023 at 3:30 pm, Dr. Smith paid $1,200 for 2 tickets.",
    "Call 555-123-4567 or email a@b.com, see https://example.com/x by 5 p.m.",
    "The 21st runner ran 3.14 km in 25% less time, i.e. 12:05.",
    "He lives at 123 Main St. in the U.S.A.",
    "We went to St. Louis, then to St. Mary's on Oak St.",
    "42", "-7", "3.5", "$5", "1/2", "2023", "12:30", "100%", "1st", "",
    "5 apples.", "Apples: 5", "[1] See the note.", "As shown in (2), it works.", "See refs [12, 13].",
    "(555) 123-4567", "\"$20,\" he said.", "'10:45,' she wrote.", "It's 5!", "Wait... 3, 2, 1!",
    "Really?! 100 times?!", "The café serves crème brûlée for $7.",
    "A naïve approach — costing €3 — failed.", "She said “yes” to 2 offers.", "It’s 4’s turn now.",
    "Señor Núñez arrived at 8.", "Prices: $1 – $5.", "Go  to   room 12.", "  Leading and trailing 7  ",
    "Tab\tseparated\t3 words", "Mr.Smith arrived.", "Version 2.0.1 is out.", "Chapter IV begins here.",
    "World War II ended in 1945.", "COVID-19 spread in 2020.", "Flight BA2490 departs at 6:15.",
    "The ratio was 3:1 at the end.", "Scores of 7-5 and 6-4.", "From 1990-1995 it grew.",
    "Temperatures of -5°C to 10°C.", "A 5-year-old boy.", "The 2nd-largest city.", "#1 in sales.",
    "50/50 chance.", "24/7 service.", "The 9/11 memorial.", "x = 2 + 3 * 4", "He scored 10/10.",
    "iPhone 15 Pro costs $999.", "Use C++ or C# for this.", "Hello!!! How are you???",
    "I paid $5 (plus tax).", "1, 2, 3, go!", "Note: 50 mg/kg per day.", "ca. 1500 B.C.",
    "AD 79 was the year.", "In the 1800s and the '90s.", "UNESCO and NASA agree.", "OK, fine.",
    ("In the summer of 2019, roughly 1,500 volunteers from 12 countries spent 3 weeks planting "
     "250,000 trees across 40 km of hillside; by 2023, about 85% had survived, according to "
     "Dr. Elena Ruiz, who presented the results on March 14th at 10:30 a.m. to an audience of "
     "students, farmers and officials, and who said the project cost only $2.5 million in total."),
]


def plain_sentences(text_dir, rng, count=100):
    sentences = []
    for path in sorted(pathlib.Path(text_dir).glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            line = re.sub(r"^\s*Speaker \d+:\s*", "", line).strip()
            for s in re.split(r"(?<=[.!?…])\s+", line):
                if 4 <= len(s.split()) <= 40 and not re.search(r"[0-9$%@/&#]", s) and s not in sentences:
                    sentences.append(s)
    return rng.sample(sentences, min(count, len(sentences)))


def main(argv=None):
    ap = argparse.ArgumentParser(description="writes tests/data/tn/corpus.jsonl")
    ap.add_argument("--cache-dir", default="/tmp/tn/cache")
    ap.add_argument("--text-dir", default=str(ROOT.parent / "shared" / "data" / "text"))
    ap.add_argument("--out", default=str(OUT))
    ap.add_argument("--max-seconds", type=float, default=2.0)
    args = ap.parse_args(argv)

    from importlib.metadata import version
    from nemo_text_processing.text_normalization.normalize import Normalizer

    rng = random.Random(SEED)
    items = list(generated(rng)) + [("edge", s) for s in EDGE]
    items += [("plain", s) for s in plain_sentences(args.text_dir, rng)]
    seen, unique = set(), []
    for cat, text in items:
        if text not in seen:
            seen.add(text)
            unique.append((cat, text))

    n = Normalizer(input_case="cased", lang="en", deterministic=True, cache_dir=args.cache_dir, post_process=True)
    meta = {"generator": "tests/tools/make_tn_corpus.py", "nemo_text_processing": version("nemo_text_processing"),
            "pynini": version("pynini")}
    lines, total, slowest = [json.dumps(meta, ensure_ascii=False)], 0.0, (0.0, "")
    for cat, text in unique:
        start = time.perf_counter()
        try:
            out = n.normalize(text, punct_post_process=False)
        except Exception as e:  # noqa: BLE001 - any failure drops the line
            print(f"dropped (raised {type(e).__name__}: {e}): {text!r}", file=sys.stderr)
            continue
        took = time.perf_counter() - start
        total += took
        slowest = max(slowest, (took, text))
        if took > args.max_seconds:
            print(f"dropped (took {took:.2f} s): {text!r}", file=sys.stderr)
            continue
        lines.append(json.dumps({"category": cat, "input": text, "nemo": out}, ensure_ascii=False))
    pathlib.Path(args.out).write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(lines) - 1} lines, nemo took {total:.2f} s in all, slowest {slowest[0]:.3f} s "
          f"({slowest[1][:60]!r})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
