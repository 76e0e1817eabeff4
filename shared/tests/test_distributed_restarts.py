"""ActorRestarts against a fake Ray: a lost actor sits out until its probe answers, and a
probe that fails is sent again only after ``retry_s`` (never in a tight loop)."""

from __future__ import annotations

from rl_core.distributed import ActorRestarts


class ActorDied(Exception):
    pass


class Ref:
    def __init__(self, ok: bool | None) -> None:
        self.ok = ok  # None: still running


class FakeRay:
    """``wait``/``get`` over :class:`Ref` s; ``exceptions.RayActorError`` as Ray names it."""

    class exceptions:
        RayActorError = ActorDied

    def wait(self, refs, num_returns=1, timeout=None):
        ready = [r for r in refs if r.ok is not None][:num_returns]
        return ready, [r for r in refs if r not in ready]

    def get(self, ref, timeout=None):
        if not ref.ok:
            raise ActorDied
        return 1234


class Method:
    def __init__(self, actor: FakeActor) -> None:
        self.actor = actor

    def remote(self) -> Ref:
        ref = Ref(self.actor.next_probe)
        self.actor.sent.append(ref)
        return ref


class FakeActor:
    def __init__(self) -> None:
        self.next_probe: bool | None = None  # how the next probe ends
        self.sent: list[Ref] = []
        self.pid = Method(self)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make(n: int = 2):
    actors = [FakeActor() for _ in range(n)]
    clock = Clock()
    return ActorRestarts(FakeRay(), actors, retry_s=1.0, clock=clock), actors, clock


def test_a_lost_actor_sits_out_until_its_probe_answers():
    restarts, actors, _ = make()
    assert restarts.available() == [0, 1]
    restarts.lost(0)
    assert restarts.failures == 1 and len(actors[0].sent) == 1
    assert restarts.available() == [1]  # probe still running
    actors[0].sent[0].ok = True  # the new incarnation answered
    assert restarts.available() == [0, 1]
    assert restarts.probes() == [] and restarts.next_retry_s() is None


def test_a_failed_probe_is_sent_again_after_retry_s_not_at_once():
    restarts, actors, clock = make()
    actors[0].next_probe = False  # reaches the dying incarnation: fails at once
    restarts.lost(0)
    first = actors[0].sent[0]
    assert restarts.settle(first)  # the runner's wait returned it
    # Not re-sent yet: nothing of actor 0 is in flight to wake a wait at once.
    assert restarts.probes() == [] and len(actors[0].sent) == 1
    assert restarts.next_retry_s() == 1.0
    for _ in range(3):
        assert restarts.available() == [1]
    assert len(actors[0].sent) == 1
    clock.now += 0.5
    assert restarts.next_retry_s() == 0.5 and restarts.available() == [1]
    actors[0].next_probe = None  # the restart is under way: the next probe waits for it
    clock.now += 0.5
    assert restarts.available() == [1] and len(actors[0].sent) == 2
    assert restarts.next_retry_s() is None and restarts.probes() == [actors[0].sent[1]]
    actors[0].sent[1].ok = True
    assert restarts.available() == [0, 1]
    assert restarts.failures == 1  # a retried probe is not another loss


def test_settle_ignores_references_that_are_not_probes():
    restarts, actors, _ = make()
    restarts.lost(1)
    assert not restarts.settle(Ref(True))
    assert restarts.available() == [0] and restarts.probes() == [actors[1].sent[0]]
