"""Old report code with performance anti-patterns (the failing lint budget)."""


def render(rows):
    out = ""
    for row in rows:
        out += str(row) + "\n"
    return out


def find_ids(items, wanted):
    found = []
    for item in items:
        if item in list(wanted):
            found.append(item)
    return found
