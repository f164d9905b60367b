"""The spending cap (docs/metering.md#spending-cap): the most overage, in dollars, one account is
charged for a calendar month's images (`Account.overage_cap`; None: no cap).

The rule has one home: resolvers/ledger/posting.py calls `allowed` and `count` for every posting of
the overage service, inside the ledger's transaction and with the account row locked. Every
writer of the month's `MonthlyUsage.overage_spend` holds that lock, so concurrent overage
charges on any number of workers stop exactly at the cap; a charge that would pass it raises
`SpendingCapReached` (429 `QUOTA_EXCEEDED` naming the cap) and writes nothing. REST, signed
URLs, batches and GraphQL all charge overage through `Meter.reserve`, hence through here.
"""

from __future__ import annotations

from decimal import Decimal

from models import Account, MonthlyUsage
from resolvers.errors import AppError, InvalidParameter
from resolvers.pricing import money
from resolvers.rollups import add_to_row

MAX_CAP = Decimal("1000000")  # dollars a month; well inside DECIMAL(18, 6)
NOT_A_NUMBER = "overageCap must be a decimal number of dollars, such as 25.00, or null"


class SpendingCapReached(AppError, code="QUOTA_EXCEEDED", status=429):
    def __init__(self, cap: Decimal) -> None:
        super().__init__(reached_message(cap))
        self.cap = cap


def dollars(amount: Decimal) -> str:
    """`$25.00`, `$0.005`: cents always, further places only when they are not zero."""
    text = format(money(amount).normalize(), "f")
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def reached_message(cap: Decimal) -> str:
    return f"Monthly spending cap reached. Cap: {dollars(cap)} of overage."


def parse_cap(value: object) -> Decimal | None:
    """A cap as `updateAccount(overageCap:)` takes it: null (no cap), or dollars from 0 to
    1,000,000 with at most 6 decimal places (a Decimal, a decimal string or a whole number)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
        raise InvalidParameter(NOT_A_NUMBER)
    try:
        cap = Decimal(str(value).strip())
    except ArithmeticError:
        raise InvalidParameter(NOT_A_NUMBER) from None
    if not cap.is_finite() or cap < 0:
        raise InvalidParameter("overageCap must be zero or more (null: no cap)")
    if cap > MAX_CAP:  # before quantizing: 1e30 needs more digits than the context has
        raise InvalidParameter(f"overageCap must be at most {MAX_CAP}")
    try:
        exact = money(cap)
    except ArithmeticError:  # an exponent beyond the context's range, such as 1e-1000000000
        exact = None
    if cap != exact:
        raise InvalidParameter("overageCap has more than 6 decimal places")
    return exact


def cap_of(account: Account) -> Decimal | None:
    return None if account.overage_cap is None else money(account.overage_cap)


async def spent(account_id: int, month: str) -> Decimal:
    """Overage charged for `month`'s images so far (net of charges returned)."""
    rows = await MonthlyUsage.filter(account_id=account_id, month=month).values_list(
        "overage_spend", flat=True
    )
    return money(rows[0]) if rows else money(0)


def reached(cap: Decimal, spend: Decimal, price: Decimal) -> bool:
    """The cap has no room left for one more image at `price`."""
    return cap - spend < price


async def allowed(
    account_id: int, cap: Decimal | None, month: str, amount: Decimal, *, clamp: bool
) -> Decimal:
    """How much of an overage charge of `amount` the cap lets through: all of it, or (`clamp`:
    a late delivery charged again) what room is left, possibly 0. Without `clamp` a charge
    past the cap raises SpendingCapReached. Call with the account row locked."""
    if cap is None:
        return amount
    room = cap - await spent(account_id, month)
    if clamp:
        return max(money(0), min(amount, room))
    if amount > room:
        raise SpendingCapReached(cap)
    return amount


async def count(account_id: int, month: str, amount: Decimal) -> None:
    """Add an overage charge (or, negative, a charge returned) to `month`'s spend. Call in the
    posting's transaction."""
    keys = {"account_id": account_id, "month": month}
    await add_to_row(MonthlyUsage, keys, {"overage_spend": amount})
