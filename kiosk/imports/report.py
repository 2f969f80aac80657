"""What an import tells the organiser: every problem when it is rejected, else a preview and a summary line."""

PREVIEW_ROWS = 20


class ImportRejected(Exception):
    """The file was not imported; .problems lists every reason, with line numbers where there are."""

    def __init__(self, problems, preview=None):
        self.problems = list(problems) if not isinstance(problems, str) else [problems]
        self.preview = preview  # each column's use and the rows skipped, when the file was read that far
        super().__init__(self.describe())

    def describe(self):
        """'import rejected: N problems' followed by one problem per line."""
        count = len(self.problems)
        head = f"import rejected: {count} problem{'' if count == 1 else 's'}"
        return "\n".join([head] + self.problems)


def summary_line(report):
    """One line for the CLI, the audit log and the preview page."""
    verb = "checked (dry run)" if report.get("dry_run") else "imported"
    if report.get("kind") == "program":
        parts = [
            f"{what} {report[what]['added']} added, {report[what]['updated']} updated, {report[what]['unchanged']} unchanged"
            for what in ("sessions", "rooms", "blocks")
        ]
        return f"program {verb}: " + "; ".join(parts)
    return (
        f"attendees {verb}: {report['added']} added, {report['updated']} updated, "
        f"{report['unchanged']} unchanged, {report['cancelled']} cancelled"
    )


def describe_lines(report):
    """The CLI's lines before the summary: the sheet, each column's use, the rows skipped and every warning."""
    lines = []
    if report.get("sheet"):
        lines.append(f"sheet: {report['sheet']}")
    for column in report.get("columns", []):
        lines.append(f"column {column['letter']} {column['header']!r}: {column['target']}")
    lines += [f"note: {note}" for note in report.get("notes", [])]
    lines += [f"skipped line {row['line']}: {row['reason']}" for row in report.get("skipped", [])]
    for warning in report.get("warnings", []):
        lines.append(f"warning: {warning['text']}")
        lines += [f"  line {row['line']}" + (f": {row['detail']}" if row["detail"] else "") for row in warning["rows"]]
    if report.get("non_ascii_names"):
        lines.append(f"read as {report['encoding']}; check these names: " + ", ".join(report["non_ascii_names"]))
    return lines
