"""Runs the work the store holds: orchestration episodes (one at a time per instance), activities (concurrently),
entity batches and due timers. Work is handed on in-process the moment it is committed; a periodic scan only
catches what a crash or a timer left behind."""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any, Callable

from devhost import jsontext
from devhost.app.bindings import Invoker, client_inputs, returned, string_datum
from devhost.clock import Clock, new_id
from devhost.errors import StoreUnavailable, WorkerCrashed
from devhost.model import (
    DEFAULT_MAX_ACTIONS,
    HTTP_ACTIVITY_NAME,
    TERMINAL_STATUSES,
    ActivityWork,
    Instance,
    Message,
    RuntimeStatus,
)
from devhost.protocol import engine
from devhost.protocol import entity_batch as entities
from devhost.protocol import history_events as ev
from devhost.protocol.failures import guarded, missing_activity
from devhost.protocol.kept_replays import KeptReplays
from devhost.protocol.stories import Storyteller
from devhost.runtime.finish_waiters import Finished
from devhost.runtime.http_activity import HttpActivity
from devhost.runtime.store.contract import Store
from devhost.runtime.task_all_waits import Waits
from devhost.tracebacks import Frame

log = logging.getLogger("devhost")
SCAN_INTERVAL = 1.0


class Dispatcher:
    """Owns the in-memory queues; the store remains the truth, so a restart picks up where a crash left off."""

    def __init__(self, store: Store, invocations: dict[str, Invoker], clock: Clock,
                 activity_workers: int = 32, orchestration_workers: int = 4,
                 ids: Callable[[], str] = new_id, stories: Storyteller | None = None,
                 client_payload: Callable[[], str] | None = None,
                 max_actions: int = DEFAULT_MAX_ACTIONS) -> None:
        self.store = store
        self.max_actions = max_actions  # host.json's maxOrchestrationActions, counted by engine.decide
        self.client_payload = client_payload  # the durableClient binding's data: an input of any trigger
        self.stories = stories or Storyteller()  # how failures are told on the console
        self.clock = clock
        self.ids = ids
        self.by_kind: dict[str, dict[str, Invoker]] = {"orchestration": {}, "activity": {}, "entity": {}}
        for invocation in invocations.values():
            if invocation.fn.spec.kind in self.by_kind:
                self.by_kind[invocation.fn.spec.kind][invocation.fn.spec.durable_name.lower()] = invocation
        self.activity_names = frozenset(i.fn.spec.durable_name for i in self.by_kind["activity"].values())
        self.replays = KeptReplays()  # the shim's replay of each instance, carried on from its last episode
        self.ready: asyncio.Queue[str] = asyncio.Queue()
        self.activities: asyncio.Queue[ActivityWork] = asyncio.Queue()
        self.queued: set[str] = set()
        self.busy: set[str] = set()
        self.again: set[str] = set()
        self.timers: dict[str, tuple[float, asyncio.TimerHandle]] = {}
        self.tasks: list[asyncio.Task[None]] = []
        self.n_activity_workers = activity_workers
        self.n_orchestration_workers = orchestration_workers
        self.http_activity = HttpActivity()
        self.waits = Waits()  # orchestrators blocked on a task_all: completions that need no replay yet
        self.arrived: dict[str, list[Message]] = {}  # messages committed while their instance's episode ran
        self.activity_ids: set[int] = set()  # work items queued, running, or with a result not yet committed
        self.unrecorded: dict[int, tuple[ActivityWork, dict[str, Any]]] = {}  # results whose commit failed
        # results held for their instance's next episode, which records them in its own transaction
        self.carried: dict[str, list[tuple[ActivityWork, dict[str, Any]]]] = {}
        self.recover_needed = False  # a commit failed: the next scan runs again what the store still holds
        self.finished = Finished()  # create-and-wait requests, woken once their instance's end is committed
        store.add_fault_listener(self._commit_failed)

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Recover what the store holds, then start the workers and the safety scan."""
        works, inboxes = self.store.pending_work()
        for work in works:
            self._queue_activity(work)
        for instance_id, visible_at in inboxes:
            self._wake(instance_id, visible_at)
        loop = asyncio.get_running_loop()
        self.tasks += [loop.create_task(self._orchestration_worker()) for _ in range(self.n_orchestration_workers)]
        self.tasks += [loop.create_task(self._activity_worker()) for _ in range(self.n_activity_workers)]
        self.tasks.append(loop.create_task(self._scan()))

    async def stop(self) -> None:
        """Stop taking work; what was not committed stays in the store and runs again at the next start."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for _, handle in self.timers.values():
            handle.cancel()
        for carried in self.carried.values():  # write what ran: it need not run again at the next start
            self._carried_back(carried)
        self.carried.clear()
        await self.http_activity.close()

    # -- hand-on ----------------------------------------------------------------------------
    def hand_on(self, works: list[ActivityWork], messages: list[Message]) -> None:
        """Called right after a write: once it is committed, queue the new activities and wake the instances that
        got messages (no user code runs for work a crash could still take back)."""
        self.store.on_commit(lambda: self._hand_on_committed(works, messages))

    def _hand_on_committed(self, works: list[ActivityWork], messages: list[Message]) -> None:
        for work in works:
            self._queue_activity(work)
        now = self.clock.time()
        for message in messages:
            if message.visible_at > now:
                self._wake(message.instance_id, message.visible_at)
            else:
                self._deliver(message)

    def _queue_activity(self, work: ActivityWork) -> None:
        self.activity_ids.add(work.id)
        self.activities.put_nowait(work)

    def _record(self, work: ActivityWork, event: dict[str, Any]) -> None:
        """Write an activity's result. When the write or its commit fails, the result is kept and written again by
        the scan once the store takes writes (the activity does not run again)."""
        try:
            message = self.store.complete_activity(work, event)
        except StoreUnavailable:
            self.unrecorded[work.id] = (work, event)
            return
        self.store.on_commit(lambda: self._activity_recorded(work, message),
                             lambda: self.unrecorded.__setitem__(work.id, (work, event)))

    def _activity_done(self, work: ActivityWork, event: dict[str, Any]) -> None:
        """An activity ran. When its instance's next episode is due anyway (no episode of it runs now, and no
        task_all absorbs the result), the result goes to that episode in memory and is recorded in the episode's
        own transaction: one commit, not two. Otherwise it is written to the inbox now."""
        instance_id = work.instance_id
        if instance_id in self.busy or instance_id in self.waits or self.recover_needed:
            self._record(work, event)
            return
        self.carried.setdefault(instance_id, []).append((work, event))  # work.execution_id says whose it is
        self._enqueue(instance_id)

    def _carried_back(self, carried: list[tuple[ActivityWork, dict[str, Any]]]) -> None:
        """The episode that took these results did not record them: write them to the inbox as any other."""
        for work, event in carried:
            self._record(work, event)

    def _settle_carried(self, work_ids: list[int], carried: list[tuple[ActivityWork, dict[str, Any]]]) -> None:
        """What was just written deletes these work items: they are done once it is committed; if that commit
        fails, their results are written again by the scan, as a result whose own commit failed."""
        def done() -> None:
            self.activity_ids.difference_update(work_ids)

        def failed() -> None:
            for work, event in carried:
                if work.id in work_ids:
                    self.unrecorded[work.id] = (work, event)
        if work_ids:
            self.store.on_commit(done, failed)

    def _activity_recorded(self, work: ActivityWork, message: Message | None) -> None:
        """An activity's result is committed: deliver it to its instance (None: the work item was already gone)."""
        self.activity_ids.discard(work.id)
        if message is not None:
            self._hand_on_committed([], [message])

    def _deliver(self, message: Message) -> None:
        """A visible message is committed: wake its instance, unless it is blocked on a task_all that this
        completion cannot finish. While the instance's episode runs, decide once that episode has committed."""
        instance_id = message.instance_id
        if instance_id in self.busy:
            self.arrived.setdefault(instance_id, []).append(message)
        elif not self.waits.absorbs(message):
            self._enqueue(instance_id)

    def _wake(self, instance_id: str, visible_at: float) -> None:
        delay = visible_at - self.clock.time()
        if delay <= 0:
            self._enqueue(instance_id)
            return
        current = self.timers.get(instance_id)
        if current is not None and current[0] <= visible_at:
            return
        if current is not None:
            current[1].cancel()
        handle = asyncio.get_running_loop().call_later(delay, self._timer_due, instance_id)
        self.timers[instance_id] = (visible_at, handle)

    def _timer_due(self, instance_id: str) -> None:
        self.timers.pop(instance_id, None)
        self._enqueue(instance_id)

    def _enqueue(self, instance_id: str) -> None:
        if instance_id in self.busy:
            self.again.add(instance_id)
        elif instance_id not in self.queued:
            self.queued.add(instance_id)
            self.ready.put_nowait(instance_id)

    def rescan(self) -> None:
        """Re-arm every timer from the store, e.g. after the clock skipped ahead."""
        for _, handle in self.timers.values():
            handle.cancel()
        self.timers.clear()
        for instance_id, visible_at in self.store.due_inboxes():
            self._wake(instance_id, visible_at)

    # -- a time source for time travel (devhost.runtime.time_travel) ---------------------------------------
    def next_due(self) -> float | None:
        """The earliest durable time after now at which a message (a timer, a scheduled signal) becomes visible."""
        return self.store.next_visible(self.clock.time())

    def clock_moved(self) -> None:
        self.rescan()

    def idle(self) -> bool:
        """Nothing queued or running, no activity result waiting to be recorded, nothing waiting for its commit."""
        return not (self.queued or self.busy or self.again or self.activity_ids or self.unrecorded) \
            and self.activities.empty() and self.store.idle()

    def _commit_failed(self) -> None:
        self.recover_needed = True

    def _recover(self) -> None:
        """After a failed commit: write again the results it took back, queue every activity the store holds that
        nobody here runs, and wake every inbox (episodes and entity batches whose outcome was rolled back)."""
        self.recover_needed = False
        for work_id, (work, event) in list(self.unrecorded.items()):
            del self.unrecorded[work_id]
            self._record(work, event)
            if work_id in self.unrecorded:
                break  # still failing: the next scan tries again
        works, inboxes = self.store.pending_work()
        for work in works:
            if work.id not in self.activity_ids:
                self._queue_activity(work)
        for instance_id, visible_at in inboxes:
            self._wake(instance_id, visible_at)

    def _halt(self) -> None:
        """The store file is gone: stop running work (the store said why; writes now answer 503)."""
        for task in self.tasks:
            if task is not asyncio.current_task():
                task.cancel()
        for _, handle in self.timers.values():
            handle.cancel()
        self.timers.clear()

    async def _scan(self) -> None:
        while True:
            await asyncio.sleep(SCAN_INTERVAL)
            try:
                if not self.store.check():
                    self._halt()
                    return
                if self.recover_needed or self.unrecorded:
                    self._recover()
                now = self.clock.time()
                for instance_id, visible_at in self.store.due_inboxes():
                    if visible_at <= now and instance_id not in self.timers and instance_id not in self.waits:
                        self._enqueue(instance_id)
            except Exception:  # the scan is a safety net; it must never die
                log.exception("devhost: work scan failed")

    # -- orchestrations and entities --------------------------------------------------------
    async def _orchestration_worker(self) -> None:
        while True:
            instance_id = await self.ready.get()
            self.queued.discard(instance_id)
            self.busy.add(instance_id)
            consumed: frozenset[int] = frozenset()
            carried = self.carried.pop(instance_id, [])
            try:
                if instance_id.startswith("@"):
                    consumed = await self._run_entity(instance_id)
                else:
                    consumed = await self._run_episode(instance_id, carried)
            except StoreUnavailable:  # the store logged it; what the episode consumed is still in the store
                self.waits.forget(instance_id)
                self._carried_back(carried)
                asyncio.get_running_loop().call_later(SCAN_INTERVAL, self._enqueue, instance_id)
            except WorkerCrashed as exc:  # its worker died under it: nothing was recorded
                log.warning("devhost: %s The episode of %s runs again.", exc, instance_id)
                self.waits.forget(instance_id)
                self._carried_back(carried)
                asyncio.get_running_loop().call_later(1.0, self._enqueue, instance_id)
            except Exception:
                log.exception("devhost: episode of %s failed; it will be retried", instance_id)
                self.waits.forget(instance_id)
                self._carried_back(carried)
                asyncio.get_running_loop().call_later(1.0, self._enqueue, instance_id)
            finally:
                self.busy.discard(instance_id)
                arrived = self.arrived.pop(instance_id, [])
                if instance_id in self.again or any(m.id not in consumed and not self.waits.absorbs(m)
                                                    for m in arrived):
                    self.again.discard(instance_id)
                    self._enqueue(instance_id)

    async def _run_episode(self, instance_id: str,
                           carried: list[tuple[ActivityWork, dict[str, Any]]]) -> frozenset[int]:
        """One episode of the instance, on its inbox and the activity results carried to it in memory; returns the
        ids of the inbox messages it consumed or dropped."""
        self.waits.forget(instance_id)
        instance = self.store.get_instance(instance_id)
        now = self.clock.now()
        all_work = [work.id for work, _ in carried]
        if instance is None:
            dropped = [m for m, _ in self.store.inbox(instance_id, None, now.timestamp())[0]]
            self.store.drop_messages(dropped, all_work)
            self._settle_carried(all_work, carried)
            return frozenset(dropped)
        messages, stale = self.store.inbox(instance_id, instance.execution_id, now.timestamp())
        if instance.status in TERMINAL_STATUSES:
            dropped = stale + [m for m, _ in messages]
            self.store.drop_messages(dropped, all_work)  # late news for a finished instance
            self._settle_carried(all_work, carried)
            return frozenset(dropped)
        # a carried result goes after the inbox under its work item's id, negated so it never meets a message's id
        current = [(-work.id, event) for work, event in carried if work.execution_id == instance.execution_id]
        history, texts = self.store.episode_history(instance_id)
        episode = engine.prepare(instance_id, instance.execution_id, instance.name, instance.status, history,
                                 messages + current, now, texts)
        taken = {-i for i in episode.consumed if i < 0}
        finished = [work.id for work, _ in carried if work.id in taken or work.execution_id != instance.execution_id]
        held = [(work, event) for work, event in carried if work.id not in finished]  # suspended: to the inbox
        if not episode.consumed:
            self.store.drop_messages(stale, finished)
            self._settle_carried(finished, carried)
            self._carried_back(held)
            return frozenset(stale)
        result, error, where = None, None, None
        if episode.run_code:
            result, error, where = await self._call_orchestrator(episode, instance)
        parent = engine.parent_of(history, episode.new_events)
        outcome = engine.decide(episode, result, error, parent, self.activity_names, self.store.statuses, self.ids,
                                self.replays, self.max_actions)
        outcome.consumed += stale
        outcome.finished_work = finished
        works, sent = self.store.commit_episode(instance, outcome, now.timestamp())
        self._settle_carried(finished, carried)
        self._carried_back(held)
        self.waits.expect(instance_id, outcome.awaits)
        if outcome.status in TERMINAL_STATUSES:  # said once it is true: after the commit
            story = self._failure_story(instance, outcome.output, where) \
                if outcome.status == RuntimeStatus.Failed else None
            self.store.on_commit(lambda: self._finished(instance, outcome.status, story))
        self.hand_on(works, sent)
        return frozenset(outcome.consumed)

    def _finished(self, instance: Instance, status: RuntimeStatus, story: str | None = None) -> None:
        """The episode that finished the instance is committed: say so (a failure with its story), and answer
        whoever waits for it."""
        if story is None:
            log.info("Orchestration %s (%s) %s.", instance.name, instance.instance_id, status.value)
        else:
            log.warning("Orchestration %s (%s) %s: %s", instance.name, instance.instance_id, status.value, story)
        self.finished.notify(instance.instance_id)

    def _failure_story(self, instance: Instance, output: str | None, where: Frame | None) -> str:
        """Why the instance failed, for the console: its output's reason, the user's own line (else the
        orchestrator's file), and the hint for a common mistake."""
        text = json.loads(output) if output else ""
        prefix = f"Orchestrator function '{instance.name}' failed: "
        reason = text[len(prefix):] if isinstance(text, str) and text.startswith(prefix) else str(text)
        return self.stories.tell(reason, where or _script(self.by_kind["orchestration"].get(instance.name.lower())))

    async def _call_orchestrator(self, episode: engine.Episode, instance: Any) \
            -> tuple[Any, str | None, Frame | None]:
        """Run the orchestrator function on the episode; its failures become data (with the user's own frame of
        the failure, for the console)."""
        invocation = self.by_kind["orchestration"].get(instance.name.lower())
        if invocation is None:
            return None, (f"The function '{instance.name}' doesn't exist, is disabled, or is not an orchestrator "
                          f"function."), None
        context = episode.context_json(instance.input, instance.parent_instance_id)
        datum, failure = await guarded(self._call(invocation, context))
        if failure is not None:  # the SDK's exception carries the OrchestratorState after $OutOfProcData$
            error, state = engine.failure_details(failure.message)
            return state, error, failure.where
        text = datum.value if datum is not None else None
        return (json.loads(text) if isinstance(text, str) else text), None, None

    async def _call(self, invocation: Invoker, trigger_input: str | None) -> Any:
        """Call a function with its trigger's string datum (and the durableClient binding's data, an ordinary
        input binding in the extension, whatever the trigger); the datum it returns (implicit output or $return).
        A dead worker raises WorkerCrashed: nothing is recorded, and the work runs again on the new worker."""
        spec = invocation.fn.spec
        inputs = client_inputs(spec, self.client_payload()) if self.client_payload else {}
        inputs[spec.trigger.name] = string_datum(trigger_input)
        outputs = await invocation.call(inputs)
        return returned(invocation.fn, outputs)

    async def _run_entity(self, entity_id: str) -> frozenset[int]:
        """Run the entity's inbox as one batch (entities.py decides what it means) and commit the outcome;
        returns the ids of the inbox messages it consumed."""
        messages, _ = self.store.inbox(entity_id, None, self.clock.time())
        if not messages:
            return frozenset()
        batch = entities.prepare_batch(entity_id, messages, *self.store.load_entity(entity_id))
        invocation = self.by_kind["entity"].get(batch.name)
        reply, error = None, None
        if invocation is None:
            error = f"The function '{batch.name}' doesn't exist, is disabled, or is not an entity function."
            log.warning("devhost: %s", self.stories.tell(error))
        else:
            datum, failure = await guarded(self._call(invocation, batch.context_json()))
            if failure is not None:  # a crash of the whole batch fails its operations; state stays as it was
                error = failure.cause
                log.warning("Executed 'Functions.%s' (Failed, %s)", invocation.fn.spec.name,
                            self.stories.tell(failure.cause, failure.where))
            else:
                reply = json.loads(datum.value) if datum is not None else {}
        now = self.clock.now()
        outcome = entities.fail_batch(batch, error, now) if reply is None else entities.apply_reply(batch, reply, now)
        script = _script(invocation)
        for failure in outcome.failures:  # as the host logs them; a failed signal has no caller to tell
            log.warning("Error in operation '%s' of entity %s: %s", failure.operation, entity_id,
                        self.stories.tell(str(jsontext.shown(failure.result)), script))
        sent = self.store.commit_entity(entity_id, batch.name, outcome.exists, outcome.state, batch.message_ids,
                                        list(outcome.replies), now.timestamp())
        self.hand_on([], sent)
        return frozenset(batch.message_ids)

    # -- activities -------------------------------------------------------------------------
    async def _activity_worker(self) -> None:
        while True:
            work = await self.activities.get()
            try:
                event = await self._run_activity(work)
            except Exception as exc:
                if isinstance(exc, WorkerCrashed):  # its worker died under it: it runs again (at least once)
                    log.warning("devhost: %s Activity %s of %s runs again.", exc, work.name, work.instance_id)
                else:
                    log.exception("devhost: activity %s of %s could not run; retrying", work.name, work.instance_id)
                asyncio.get_running_loop().call_later(1.0, self.activities.put_nowait, work)
                continue
            self._activity_done(work, event)

    async def _run_activity(self, work: ActivityWork) -> dict[str, Any]:
        """Run one activity (or the built-in HTTP activity); its failure becomes a TaskFailed event worded as the
        extension words it (devhost/protocol/failures.py)."""
        started = time.perf_counter()
        if work.name == HTTP_ACTIVITY_NAME:
            result, failure = await guarded(self.http_activity.run(work.input))
            failed = failure.http_activity_failed() if failure is not None else None
        else:
            invocation = self.by_kind["activity"].get(work.name.lower())
            if invocation is None:  # scheduled, and then the app lost it: the task fails, as in the extension
                why = self.stories.load_error(f"The function '{work.name}' doesn't exist")
                log.warning("devhost: activity %s of %s does not exist.%s", work.name, work.instance_id,
                            f" {why}" if why else "")
                return ev.task_failed(self.clock.now(), work.task_id, *missing_activity(work.name))
            datum, failure = await guarded(self._call(invocation, work.input))
            result = datum.value if datum is not None else None
            failed = failure.activity_failed(work.name) if failure is not None else None
        if failure is not None and failed is not None:
            log.warning("Executed 'Functions.%s' (Failed, %s)", work.name,
                        self.stories.tell(failure.cause, failure.where))
            return ev.task_failed(self.clock.now(), work.task_id, *failed)
        log.debug("Executed 'Functions.%s' (Succeeded, Duration=%.0fms)", work.name,
                  (time.perf_counter() - started) * 1000)
        return ev.task_completed(self.clock.now(), work.task_id, result)


def _script(invocation: Invoker | None) -> str | None:
    """The file of a function's code: where a failure without a line of the user's is told to be."""
    return f"{invocation.fn.spec.directory}/{invocation.fn.spec.script_file}" if invocation else None
