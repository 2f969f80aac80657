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
