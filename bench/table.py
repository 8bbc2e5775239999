"""The one table `python -m bench.run` prints: a row per measured case, in Markdown."""
from dataclasses import dataclass

HEADERS = ("Benchmark", "Case", "Time", "Compared with", "Memory", "Other")


@dataclass
class Row:
    benchmark: str
    case: str
    time: str
    compared: str = ""
    memory: str = ""
    other: str = ""

    def cells(self):
        return (self.benchmark, self.case, self.time, self.compared, self.memory, self.other)


def render(rows):
    table = [HEADERS] + [row.cells() for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(line, widths)) + " |"
             for line in table]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def secs(value):
    return f"{value:.2f} s" if value >= 0.1 else f"{value * 1000:.0f} ms"


def mib(value):
    return f"{value:.0f} MiB"
