"""Messages for a person: an English sentence that also carries the key and values by which the
app shows it in another language (ui/messages/zh/engine.toml holds the Chinese)."""
from __future__ import annotations


class Message(str):
    """The English text (this is a str: the CLI prints it, `f"{m}"` and `==` see the text),
    plus `key` and `values`. A value can itself be a Message (a reason inside a reason)."""

    key: str
    template: str
    values: dict

    def __new__(cls, key: str, template: str, **values) -> "Message":
        self = super().__new__(cls, template.format(**values) if values else template)
        self.key, self.template, self.values = key, template, values
        return self

    def __reduce__(self):
        # pickle and copy rebuild it from key, template and values (str's own way passes only the text)
        return _rebuild, (self.key, self.template, self.values)


def _rebuild(key: str, template: str, values: dict) -> Message:
    return Message(key, template, **values)


def reason(error: BaseException) -> str:
    """The Message an engine error was raised with, else its plain text."""
    first = error.args[0] if len(error.args) == 1 else None
    return first if isinstance(first, Message) else str(error)
