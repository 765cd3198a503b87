"""The optimizer step as whole-buffer passes: one flat parameter/gradient buffer per group.

``Optimizer.step()`` runs ``update(p, grad, state, group)`` once per parameter: a Python call
and a dozen NumPy passes each, which for a small network costs more than the arithmetic.
:meth:`FlatStep.build` copies every parameter of a group into one flat buffer (and its state
arrays, moments and momentum, into one buffer per kind) and points ``p.data`` at views of it.
:meth:`FlatStep.step` then runs the optimizer's own ``update`` once per group, on the flat
arrays: the same elementwise IEEE operations with the same Python scalars, so the result is
bit for bit the eager loop's (an elementwise op gives the same number whatever array the
element sits in). The captured training step of issue 20 (``sinapsi.capture``) writes the
gradients into :attr:`FlatStep.grads` and calls ``optimizer.step()``, which tries the flat
step first.

What stays per parameter is what ``state_dict`` saves per parameter: the ``"step"`` count
(parameters whose counts differ, e.g. after steps in which some had no gradient, are updated
in separate runs of the buffer) and each state array, a view registered in
``optimizer.state``.
"""

from __future__ import annotations

from typing import Any

from .. import backend
from . import _numba
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["FlatStep"]

np = backend.numpy

# the state arrays each optimizer's update() may create, by exact class
_KEYS: dict[type, tuple[str, ...]] = {
    SGD: ("momentum_buffer",),
    Adam: ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
    AdamW: ("exp_avg", "exp_avg_sq", "max_exp_avg_sq"),
    RMSprop: ("square_avg", "grad_avg", "momentum_buffer"),
    Adagrad: ("sum",),
}
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
_max, _abs = np.maximum.reduce, np.abs


class _Proxy:
    """What ``update`` reads of a parameter (``.data``), standing for a run of the buffer."""

    __slots__ = ("data",)

    def __init__(self, data: Any) -> None:
        self.data = data


class _Group:
    """One parameter group flattened: the buffers, each parameter's views and offsets."""

    def __init__(self, group: dict[str, Any], dtype: Any) -> None:
        params = group["params"]
        self.group = group
        self.n = len(params)
        self.ids = [id(p) for p in params]
        self.shapes = [p.data.shape for p in params]
        sizes = [p.data.size for p in params]
        self.bounds = [(sum(sizes[:i]), sum(sizes[: i + 1])) for i in range(self.n)]
        total = sum(sizes)
        self.dtype = dtype
        self.data = np.empty(total, dtype)
        self.grad = np.zeros(total, dtype)
        self.wd = np.empty(total, dtype)  # grad + wd * p, written each step (coupled decay)
        self.datas = self.views(self.data)
        self.grads = self.views(self.grad)
        self.state: dict[str, Any] = {}  # state key -> flat buffer
        self.state_views: dict[str, list[Any]] = {}  # state key -> per-parameter views
        self.proxy = _Proxy(self.data)
        self.limit = float(np.finfo(dtype).max) / (4 * max(total, 1))
        self.check: Any = None  # _generated_check's function, made again when views appear

    def views(self, flat: Any) -> list[Any]:
        return [flat[a:b].reshape(s) for (a, b), s in zip(self.bounds, self.shapes)]

    def state_buffer(self, key: str) -> list[Any]:
        """The per-parameter views of the flat buffer for state ``key`` (allocated once)."""
        views = self.state_views.get(key)
        if views is None:
            self.state[key] = flat = np.zeros(self.data.size, self.dtype)
            views = self.state_views[key] = self.views(flat)
            self.check = None  # it knows the views it compares with
        return views


class FlatStep:
    """An optimizer's step as whole-buffer passes, bit for bit the eager loop (see module)."""

    grads: list[Any]

    def __init__(self, optimizer: Optimizer, groups: list[_Group]) -> None:
        self.optimizer = optimizer
        self._groups = groups
        self._keys = _KEYS[type(optimizer)]
        self.grads = [g for grp in groups for g in grp.grads]

    @classmethod
    def build(cls, optimizer: Optimizer) -> FlatStep | None:
        """Flatten ``optimizer``'s parameters, or None where it does not apply.

        Applies to the exact classes SGD, Adam, AdamW, RMSprop and Adagrad (any options), with
        NumPy float32/float64 parameters (one dtype per group), each requiring grad and
        appearing once, and state arrays of their parameter's shape and dtype. On success
        every parameter's ``.data`` becomes a C-contiguous view, shaped like it, into one flat
        buffer per group (values copied); the per-parameter state arrays likewise (state
        created later is created as such views); and ``optimizer._flat`` is set to the
        FlatStep."""
        keys = _KEYS.get(type(optimizer))
        if keys is None:
            return None
        seen: set[int] = set()
        memory: dict[int, list[Any]] = {}  # the arrays' memory, to refuse shared (tied) data
        dtypes = []
        for group in optimizer.param_groups:
            dtype = None
            for p in group["params"]:
                data = p.data
                if type(data) is not np.ndarray or data.dtype not in _FLOATS:
                    return None
                if dtype is not None and data.dtype != dtype:
                    return None
                if not p.requires_grad or id(p) in seen:
                    return None
                root = data
                while isinstance(root.base, np.ndarray):
                    root = root.base
                others = memory.setdefault(id(root), [])
                if any(np.may_share_memory(data, o) for o in others):
                    return None
                others.append(data)
                dtype = data.dtype
                seen.add(id(p))
                s = optimizer.state.get(id(p))
                if s is not None and not all(_fits(s.get(k), data) for k in keys):
                    return None
            dtypes.append(dtype)
        groups = []
        for group, dtype in zip(optimizer.param_groups, dtypes):
            grp = _Group(group, dtype if dtype is not None else np.dtype(np.float32))
            for p, view in zip(group["params"], grp.datas):
                view[...] = p.data
                p.data = view
            groups.append(grp)
        flat = cls(optimizer, groups)
        flat.adopt_state()
        optimizer._flat = flat
        return flat

    def adopt_state(self) -> None:
        """Copy every state array that fits (its parameter's shape and dtype) into the flat
        buffers and register the view in its place (``load_state_dict`` calls this after
        restoring, so that the flat step keeps applying)."""
        states = self.optimizer.state
        for grp in self._groups:
            for i, pid in enumerate(grp.ids):
                s = states.get(pid)
                if s is None:
                    continue
                for key in self._keys:
                    a = s.get(key)
                    if a is None or not _fits(a, grp.datas[i]):
                        continue
                    views = grp.state_buffer(key)
                    if a is not views[i]:
                        views[i][...] = a
                        s[key] = views[i]

    def _same_groups(self) -> bool:
        """The optimizer's parameter groups are still the ones flattened, with as many
        parameters each."""
        groups = self.optimizer.param_groups
        if len(groups) != len(self._groups):
            return False
        for group, grp in zip(groups, self._groups):  # a loop: on every step's hot path
            if group is not grp.group or len(group["params"]) != grp.n:
                return False
        return True

    def holds(self) -> bool:
        """Whether the flattening still holds: the same groups, every ``p.data`` its view."""
        if self.optimizer._flat is not self or not self._same_groups():
            return False
        return all(
            p.data is d for grp in self._groups for p, d in zip(grp.group["params"], grp.datas)
        )

    def step(self) -> bool:
        """Do ``optimizer.step()``'s whole work as whole-buffer passes (one ``update`` call per
        group, or per run of parameters with equal step counts and state), bit for bit equal
        to the eager loop, and return True; return False, changing nothing, where it does not
        apply this step (a ``p.grad`` that is not its view in :attr:`grads`, a ``p.data``
        replaced, the parameter groups changed, or a non-finite gradient, which the eager
        step then reports), so that the eager loop runs instead. A state array replaced by
        one of the same shape and dtype (an eager step's, a user's) is copied into the flat
        buffer and its view registered in its place; any other makes it return False."""
        opt = self.optimizer
        if not self._same_groups():
            return False
        states = opt.state
        plans = []
        finite = True
        adopt = [False]
        for group, grp in zip(opt.param_groups, self._groups):
            params = group["params"]
            if grp.check is None and 0 < grp.n <= _GENERATE_UP_TO:
                grp.check = _generated_check(grp, self._keys)
            same = None if grp.check is None else grp.check(params, states.get)
            signs = same or self._signatures(grp, params, states, adopt)
            if signs is None:
                return False
            plans.append((same, signs))
            if not _within(grp.grad, grp.limit, grp.wd):  # wd: written after, when used
                finite = False
        # all elements finite and below max / (4 n): no gradient's sum can overflow, so the
        # eager guard (a sum per parameter) passes too; otherwise it decides, parameter by
        # parameter, with its own message
        if not finite and opt._nonfinite() is not None:
            return False
        if adopt[0]:
            self.adopt_state()
        for grp, (same, signs) in zip(self._groups, plans):
            if same is not None:  # every parameter as the last step left it
                for s in same:
                    s["step"] += 1
                self._update(grp, 0, grp.n, grp.proxy, self._decayed(grp))
            elif grp.n:
                self._step_group(grp, states, signs)
        return True

    def _signatures(
        self, grp: _Group, params: list[Any], states: dict[int, Any], adopt: list[bool]
    ) -> list[Any] | None:
        """Each parameter's signature: None (no state yet) or its step count and which state
        arrays it has (views of ours, or arrays of its shape and dtype, to adopt: ``adopt[0]``
        is set); the list ends with True where all are equal. None where the flat step does not
        apply: a ``p.data`` or ``p.grad`` that is not its view, a state array that cannot be
        adopted, a state without a step count (the eager loop's KeyError)."""
        known = [(key, grp.state_views.get(key)) for key in self._keys]
        get = states.get
        signs: list[Any] = []
        i = 0
        for p, data, grad, pid in zip(params, grp.datas, grp.grads, grp.ids):
            if p.data is not data or p.grad is not grad:
                return None
            s = get(pid)
            if s is None:
                signs.append(None)
                i += 1
                continue
            t = s.get("step")
            if t is None:
                return None
            have = 0
            bit = 1
            for key, views in known:
                a = s.get(key)
                if a is not None:
                    if views is None or a is not views[i]:
                        if not _fits(a, grp.datas[i]):
                            return None
                        adopt[0] = True
                    have |= bit
                bit <<= 1
            signs.append((t, type(t), have))
            i += 1
        signs.append(not signs or signs.count(signs[0]) == len(signs))
        return signs

    def _step_group(self, grp: _Group, states: dict[int, Any], signs: list[Any]) -> None:
        for pid, sign in zip(grp.ids, signs):  # as the eager loop: create, count
            if sign is None:
                states[pid] = {"step": 1}
            else:
                states[pid]["step"] += 1
        grad = self._decayed(grp)
        if signs[-1]:  # all alike: one update of the whole buffer
            self._update(grp, 0, grp.n, grp.proxy, grad)
            return
        start = 0
        for i in range(1, grp.n + 1):  # runs of parameters with equal signatures
            if i == grp.n or signs[i] != signs[start]:
                a, b = grp.bounds[start][0], grp.bounds[i - 1][1]
                self._update(grp, start, i, _Proxy(grp.data[a:b]), grad[a:b])
                start = i

    def _decayed(self, grp: _Group) -> Any:
        """The group's flat gradient, plus ``weight_decay * p`` (written into ``grp.wd``) where
        the optimizer couples the decay to the gradient, as the eager loop does."""
        opt = self.optimizer
        wd = 0.0 if opt._decoupled_weight_decay else grp.group.get("weight_decay", 0.0)
        if not wd:
            return grp.grad
        np.multiply(wd, grp.data, out=grp.wd)  # grad + wd * p, as the eager loop
        np.add(grp.grad, grp.wd, out=grp.wd)
        return grp.wd

    def _update(self, grp: _Group, i: int, j: int, proxy: _Proxy, grad: Any) -> None:
        """The optimizer's own ``update`` on parameters ``i:j`` of the group as one array;
        state arrays it creates are copied into the flat buffers and registered as views."""
        states = self.optimizer.state
        whole = i == 0 and j == grp.n
        a, b = grp.bounds[i][0], grp.bounds[j - 1][1]
        first = states[grp.ids[i]]
        state = {"step": first["step"]}
        passed = {}
        for key in self._keys:
            if first.get(key) is not None:
                flat = grp.state[key]
                state[key] = passed[key] = flat if whole else flat[a:b]
        self.optimizer.update(proxy, grad, state, grp.group)
        for key in self._keys:
            made = state.get(key)
            if made is None or made is passed.get(key):
                continue
            views = grp.state_buffer(key)
            grp.state[key][a:b] = made
            for k in range(i, j):
                states[grp.ids[k]][key] = views[k]

    def __reduce__(self) -> Any:
        # a copied or unpickled optimizer's parameters are no longer views of one buffer: it
        # steps eagerly (build a FlatStep for it anew)
        return (_dropped, ())


_LOOP_FROM = 1 << 16
_GENERATE_UP_TO = 512  # parameters in a group; a larger group is looked at parameter by parameter


def _generated_check(grp: _Group, keys: tuple[str, ...]) -> Any:
    """``check(params, get)`` for one group, generated as straight-line Python: the list of the
    parameters' state dicts when this step is one update of the whole buffer with nothing to
    adopt (every ``p.data`` and ``p.grad`` its view, every state present with one step count
    of one type, each state key absent everywhere or our view everywhere), else None, where
    :meth:`FlatStep._signatures` decides parameter by parameter. The usual step of a small
    network, checked ~3x faster than by that loop (no per-parameter tuples or inner loops)."""
    n = grp.n
    names: dict[str, Any] = {}
    lines = ["def check(params, get):", "    " + "".join(f"p{i}, " for i in range(n)) + "= params"]
    for i, (data, grad, pid) in enumerate(zip(grp.datas, grp.grads, grp.ids)):
        names[f"D{i}"], names[f"G{i}"] = data, grad
        lines += [
            f"    if p{i}.data is not D{i} or p{i}.grad is not G{i}:",
            "        return None",
            f"    s{i} = get({pid})",
            f"    if s{i} is None or (t{i} := s{i}.get('step')) is None:",
            "        return None",
        ]
    if n > 1:
        steps = " == ".join(f"t{i}" for i in range(n))
        types = " is ".join(f"type(t{i})" for i in range(n))
        lines += [f"    if not ({steps} and {types}):", "        return None"]
    for key in keys:
        views = grp.state_views.get(key)
        absent = " or ".join(f"s{i}.get({key!r}) is not None" for i in range(n))
        if views is None:  # no parameter can hold our view: each must hold nothing
            lines += [f"    if {absent}:", "        return None"]
            continue
        for i, view in enumerate(views):
            names[f"V_{key}_{i}"] = view
        ours = " or ".join(f"s{i}.get({key!r}) is not V_{key}_{i}" for i in range(n))
        lines += [
            f"    if s0.get({key!r}) is None:",
            f"        if {absent}:",
            "            return None",
            f"    elif {ours}:",
            "        return None",
        ]
    lines.append("    return [" + ", ".join(f"s{i}" for i in range(n)) + "]")
    code = compile("\n".join(lines) + "\n", "<sinapsi.optim.flat check>", "exec")
    exec(code, names)  # noqa: S102 - our own generated source, no user text in it
    return names["check"]


def _within(a: Any, limit: float, scratch: Any) -> bool:
    """Whether every element of ``a`` has ``|x| <= limit`` (NaN: no), without warnings: one
    numba loop, or NumPy's max of ``|a|`` (into ``scratch``, an array like ``a``)."""
    if not a.size:
        return True
    # the loop only where it pays: loading numba costs ~50 MiB and its JIT a second, more
    # than two NumPy reductions of a small network's gradients (which SGD never needs numba for)
    ok = _numba.all_within(a, limit) if a.size >= _LOOP_FROM else None
    if ok is None:
        ok = float(_max(_abs(a, out=scratch))) <= limit  # NaN: False, as max keeps it
    return ok


def _dropped() -> None:
    return None


def _fits(a: Any, data: Any) -> bool:
    """Whether a state entry can live in the flat buffer: absent, or a NumPy array of the
    parameter's shape and dtype."""
    if a is None:
        return True
    return type(a) is np.ndarray and a.shape == data.shape and a.dtype == data.dtype
