"""The groups of the key-population registry and how often each is visited.

The four visits (``core.constants.VISIT_CATEGORIES``: 困难家庭, 空巢老人, 社区矫正人员, 戒毒康复人员)
and the key groups (``core.constants.KEY_GROUPS``: 信访人员, 精神障碍患者, 孤寡老人, 残疾人, 留守儿童),
each with its visit frequency (``core.constants.GROUP_FREQUENCIES``); ``[registry]`` in
``gridcommand.toml`` changes a frequency (``frequency = {disabled = "monthly"}``) or adds a group
(``[registry.groups.veteran] zh = "退役军人", frequency = "quarterly"``).
"""

from __future__ import annotations

from dataclasses import dataclass

from core import constants
from core.settings import RegistrySettings


@dataclass(frozen=True)
class Group:
    """A group of the registry: stable key, labels and visit frequency (a key of
    ``core.constants.VISIT_FREQUENCIES``)."""

    key: str
    zh: str
    en: str
    frequency: str

    def text(self, lang: str = "zh") -> str:
        """The label in ``lang``."""
        return self.en if lang == "en" else self.zh


def registry_groups(rules: RegistrySettings | None = None) -> dict[str, Group]:
    """Every group by key, in order: the four visits, the key groups, then the configured ones."""
    rules = rules or RegistrySettings()
    labels = {**constants.VISIT_CATEGORIES, **constants.KEY_GROUPS}
    groups = {key: Group(key, label.zh, label.en, constants.GROUP_FREQUENCIES.get(key, "monthly"))
              for key, label in labels.items()}
    for key, extra in rules.groups.items():
        groups[key] = Group(key, extra["zh"], extra.get("en") or extra["zh"], extra["frequency"])
    for key, frequency in rules.frequency.items():
        if key in groups:
            old = groups[key]
            groups[key] = Group(old.key, old.zh, old.en, frequency)
    return groups


def _plain(text: str) -> str:
    return "".join(str(text).split()).lower()


def group_names(groups: dict[str, Group]) -> dict[str, str]:
    """Every way to name a group (key, Chinese and English label; case and spaces ignored) -> key."""
    names: dict[str, str] = {}
    for group in reversed(list(groups.values())):
        names.update({_plain(group.en): group.key, _plain(group.zh): group.key, _plain(group.key): group.key})
    return names


def group_of(text: str, groups: dict[str, Group], *, names: dict[str, str] | None = None) -> str | None:
    """The key of the group named ``text`` (its key, Chinese or English label; case and spaces
    ignored), or None; ``names`` is :func:`group_names` of ``groups``, when already at hand."""
    return (names if names is not None else group_names(groups)).get(_plain(text)) if str(text).strip() else None


def group_label(key: str, groups: dict[str, Group], lang: str = "zh") -> str:
    """The label of group ``key`` in ``lang`` (the key itself for a group no longer configured)."""
    group = groups.get(str(key))
    return group.text(lang) if group else str(key)
