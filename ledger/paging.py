"""One page of a list, as every paged read of a service returns it."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Page:
    """`items` of page `page` (from 1) of `per_page` rows, out of `total`."""

    items: list
    page: int
    per_page: int
    total: int
