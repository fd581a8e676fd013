"""The in-flight bookkeeping of the inbox: who waits for whom, and which offset is committable."""

import asyncio
import random

import pytest

from aligned_common.inbox_order import BRAND_WIDE, OffsetLedger, OrderGate

pytestmark = pytest.mark.unit


# -- OffsetLedger ---------------------------------------------------------------------------------
def test_the_committable_offset_is_the_lowest_unfinished_one():
    ledger = OffsetLedger()
    for offset in (10, 11, 12, 13):
        assert ledger.start(offset)
    assert ledger.committable is None
    assert not ledger.finish(12)  # finished above a gap: nothing to commit yet
    assert not ledger.finish(11)
    assert ledger.committable is None
    assert ledger.finish(10)
    assert ledger.committable == 13  # 10, 11, 12 done; 13 still in flight
    assert ledger.in_flight == 1
    assert ledger.finish(13)
    assert ledger.committable == 14 and ledger.in_flight == 0


def test_offsets_with_gaps_are_fine_and_an_offset_seen_twice_is_refused():
    ledger = OffsetLedger()
    assert ledger.start(5) and ledger.start(9)  # 6-8: transaction markers, compacted away
    assert not ledger.start(9) and not ledger.start(7)
    ledger.finish(9)
    ledger.finish(5)
    assert ledger.committable == 10
    assert not ledger.start(8), "below what is committed already"
    assert ledger.start(10)


def test_in_any_finishing_order_the_committable_offset_never_passes_an_unfinished_one():
    draw = random.Random(7)
    for _ in range(200):
        offsets = sorted(draw.sample(range(1000), 30))
        ledger = OffsetLedger()
        for offset in offsets:
            ledger.start(offset)
        finished: set[int] = set()
        for offset in draw.sample(offsets, len(offsets)):
            ledger.finish(offset)
            finished.add(offset)
            unfinished = [o for o in offsets if o not in finished]
            if ledger.committable is not None:
                assert not unfinished or ledger.committable <= unfinished[0]
                assert all(o in finished for o in offsets if o < ledger.committable)
        assert ledger.committable == offsets[-1] + 1


# -- OrderGate ------------------------------------------------------------------------------------
async def run_all(
    gate: OrderGate, messages: list[tuple[str, str | None]], work_s
) -> list[tuple[str, str, int]]:
    """Admits messages in order, runs each after its waits; returns (event, brand/key, index) in time order."""
    log: list[tuple[str, str, int]] = []

    async def one(i, brand, key, waits, done):
        try:
            for earlier in waits:
                await earlier
            log.append(("start", f"{brand}/{key}", i))
            await asyncio.sleep(work_s(i))
            log.append(("end", f"{brand}/{key}", i))
        finally:
            done.set_result(None)

    tasks = []
    for i, (brand, key) in enumerate(messages):
        waits, done = gate.admit(brand, key)
        tasks.append(asyncio.create_task(one(i, brand, key, waits, done)))
    await asyncio.gather(*tasks)
    return log


def spans(log):
    start = {i: n for n, (kind, _, i) in enumerate(log) if kind == "start"}
    end = {i: n for n, (kind, _, i) in enumerate(log) if kind == "end"}
    return start, end


async def test_the_same_key_runs_in_order_and_different_keys_overlap():
    gate = OrderGate()
    messages = [("b1", "job-a"), ("b1", "job-b"), ("b1", "job-a"), ("b2", "job-a"), ("b1", "job-a")]
    log = await run_all(gate, messages, lambda i: 0.05 if i == 0 else 0.01)
    start, end = spans(log)
    # b1/job-a: 0 -> 2 -> 4, one after the other
    assert end[0] < start[2] and end[2] < start[4]
    # job-b of b1 and job-a of another brand did not wait for the slow first message
    assert start[1] < end[0] and start[3] < end[0]
    assert len(gate) == 0, "nothing is kept once all finished"


async def test_a_brand_wide_message_waits_for_all_before_it_and_holds_back_all_after_it():
    gate = OrderGate()
    messages = [("b1", "x"), ("b1", "y"), ("b1", BRAND_WIDE), ("b1", "z"), ("b1", "x"), ("b2", "x")]
    log = await run_all(gate, messages, lambda i: 0.03)
    start, end = spans(log)
    assert start[2] > end[0] and start[2] > end[1]
    assert start[3] > end[2] and start[4] > end[2]
    assert start[5] < end[0], "another brand is not held back"
    assert start[3] < end[4] and start[4] < end[3], "after the barrier, different keys overlap again"
    assert len(gate) == 0


async def test_a_message_whose_predecessor_finished_already_does_not_wait():
    gate = OrderGate()
    waits, done = gate.admit("b", "k")
    assert waits == []
    done.set_result(None)
    waits, done2 = gate.admit("b", "k")
    assert waits == []
    done2.set_result(None)
    await asyncio.sleep(0)
    assert len(gate) == 0


async def test_random_mixes_keep_every_keys_order():
    draw = random.Random(3)
    gate = OrderGate()
    messages = [(draw.choice("ab"), draw.choice(["k1", "k2", "k3", BRAND_WIDE])) for _ in range(60)]
    log = await run_all(gate, messages, lambda i: draw.uniform(0, 0.005))
    start, end = spans(log)
    for i, (brand, key) in enumerate(messages):
        for j in range(i):
            other_brand, other_key = messages[j]
            if other_brand == brand and (key is BRAND_WIDE or other_key is BRAND_WIDE or key == other_key):
                assert end[j] < start[i], f"{j} {messages[j]} must finish before {i} {messages[i]} starts"
    assert len(gate) == 0
