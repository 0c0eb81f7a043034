"""The global filters, shared by every page: to SQL over comparison_facts, and to/from the URL."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields

from analysis.schema import V_FACTS

BALANCED_CHOICES = ("all", "balanced", "balanced_10")

# dataclass field -> (URL key, comparison_facts column)
_LIST_FIELDS: dict[str, tuple[str, str]] = {
    "countries": ("country", "country"),
    "languages": ("lang", "assigned_lang"),
    "ages": ("age", "age"),
    "genders": ("gender", "gender"),
    "educations": ("edu", "education"),
    "politicals": ("pol", "political"),
}
SEP = "|"


@dataclass(frozen=True)
class Filters:
    countries: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    ages: tuple[str, ...] = ()
    genders: tuple[str, ...] = ()
    educations: tuple[str, ...] = ()
    politicals: tuple[str, ...] = ()
    pregenerated_only: bool = False
    balanced: str = "all"
    turns: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.balanced not in BALANCED_CHOICES:
            raise ValueError(f"balanced must be one of {BALANCED_CHOICES}, not {self.balanced!r}")
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):  # accept lists, store tuples (hashable, cache keys)
                object.__setattr__(self, f.name, tuple(value))
        bad = [t for t in self.turns if t not in (1, 2, 3, 4)]
        if bad:
            raise ValueError(f"turns must be 1..4, not {bad}")

    def is_empty(self) -> bool:
        return self == Filters()

    def where(self, alias: str = "") -> tuple[str, list]:
        """An SQL boolean expression over comparison_facts columns, with '?' parameters."""
        prefix = f"{alias}." if alias else ""
        clauses: list[str] = []
        params: list = []
        for name, (_, column) in _LIST_FIELDS.items():
            values = getattr(self, name)
            if values:
                clauses.append(f"{prefix}{column} IN ({', '.join('?' for _ in values)})")
                params.extend(values)
        if self.pregenerated_only:
            clauses.append(f"{prefix}is_pregenerated_first_prompt")
        if self.balanced == "balanced":
            clauses.append(f"{prefix}in_balanced_subset")
        elif self.balanced == "balanced_10":
            clauses.append(f"{prefix}in_balanced_subset_10")
        if self.turns:
            clauses.append(f"{prefix}turn IN ({', '.join('?' for _ in self.turns)})")
            params.extend(self.turns)
        return (" AND ".join(clauses) if clauses else "TRUE"), params

    def facts_sql(self, alias: str = "f") -> tuple[str, list]:
        """A query selecting the filtered turns of ``comparison_facts`` (a CTE body), with its parameters."""
        where, params = self.where(alias)
        return f"SELECT * FROM {V_FACTS} {alias} WHERE {where}", params

    def to_query_params(self) -> dict[str, str]:
        """URL parameters for this filter set; empty filters write nothing."""
        out: dict[str, str] = {}
        for name, (key, _) in _LIST_FIELDS.items():
            values = getattr(self, name)
            if values:
                out[key] = SEP.join(values)
        if self.pregenerated_only:
            out["pregen"] = "1"
        if self.balanced != "all":
            out["balanced"] = self.balanced
        if self.turns:
            out["turn"] = SEP.join(str(t) for t in self.turns)
        return out

    @classmethod
    def from_query_params(cls, params: Mapping[str, object]) -> Filters:
        """Read filters from URL parameters; unknown or malformed values are ignored, never fatal."""

        def split(key: str) -> tuple[str, ...]:
            raw = params.get(key)
            if raw is None:
                return ()
            if isinstance(raw, (list, tuple)):
                raw = SEP.join(str(r) for r in raw)
            return tuple(v for v in str(raw).split(SEP) if v != "")

        kwargs: dict = {name: split(key) for name, (key, _) in _LIST_FIELDS.items()}
        kwargs["pregenerated_only"] = str(params.get("pregen", "")).lower() in ("1", "true", "yes")
        balanced = str(params.get("balanced", "all"))
        kwargs["balanced"] = balanced if balanced in BALANCED_CHOICES else "all"
        kwargs["turns"] = tuple(sorted({int(t) for t in split("turn") if t in ("1", "2", "3", "4")}))
        return cls(**kwargs)

    @staticmethod
    def url_keys() -> tuple[str, ...]:
        return tuple(k for k, _ in _LIST_FIELDS.values()) + ("pregen", "balanced", "turn")
