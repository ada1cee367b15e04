"""A small batch job: parse records, summarise them. The budgets in pyproject.toml guard its
speed, memory and where its CPU time goes."""

import sys


def parse_records(n):
    records = []
    for i in range(n):
        line = f"{i},{i * 7 % 101},{i % 13}"
        a, b, c = line.split(",")
        records.append((int(a), int(b), int(c)))
    return records


def summarise(records):
    totals = {}
    for _, value, group in records:
        totals[group] = totals.get(group, 0) + value
    return sorted(totals.items())


def main():
    n = 20_000 if "--quick" in sys.argv else 300_000
    records = parse_records(n)
    summary = summarise(records)
    print(f"{len(records)} records, {len(summary)} groups")


if __name__ == "__main__":
    main()
