"""`sinapsi playground` next to the TensorFlow Playground, in one headless Chromium (issue 15).

Both pages run in the same browser, one at a time, the rows taking turns (TF default, sinapsi
default, TF spiral, sinapsi spiral; repeated ``--rounds`` times; medians and ranges reported):

* **TF Playground**, built from its source (``npm install && npm run build`` in a checkout of
  tensorflow/playground, see ../shared/ANCHORS.md) and served from ``dist/`` by
  ``python -m http.server`` on 127.0.0.1. It runs one training epoch and a full UI update per
  animation frame, so its full frames/s equal its epochs/s. Read: ``#iter-number`` (epoch),
  ``#loss-test`` (test loss: mean of 0.5 (tanh output - label)^2 with labels -1/+1).
* **sinapsi playground**, ``sinapsi.playground.serve`` in a uvicorn subprocess on a free
  127.0.0.1 port, settings given in the URL hash. Read: ``window.playgroundStats`` (frames
  drawn, epoch, the server's samplesPerSecond, where a frame's time went) and ``#test-loss``:
  binary cross-entropy in nats by default, a different quantity from TF's squared error; with
  ``--sinapsi-loss softmax_mse`` the page trains on the squared error of the class
  probabilities, exactly half of TF's loss for two classes, and is timed to 0.05.

Per run: a fresh tab loads the setting, a script inside the page clicks play and records the
epoch and frame counters after ``--warmup`` seconds and again ``--seconds`` later (timestamps
from ``performance.now()``, no round trip to Python inside the window), and the time from the
click until the test loss text first reads below 0.1 (up to ``--loss-timeout`` seconds).

Chromium: Debian's ``/usr/bin/chromium`` (never ``playwright install``), ``--no-sandbox
--disable-gpu``, headless, 1400x1000; every request to a host other than 127.0.0.1 is aborted.
OpenBLAS environment variables are reported as found and never changed.

    python benchmarks/playground.py                       # both, 3 rounds of 5 s
    python benchmarks/playground.py --only sinapsi --rounds 1 --seconds 2 --json out.json
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import OPENBLAS_VARS, cpu_count, cpu_name, write_json  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
DEFAULT_TF_DIST = "/tmp/tfpg/dist"
VIEWPORT = {"width": 1400, "height": 1000}
THRESHOLD = 0.1  # test loss below which a run counts as trained
TARGET_FPS = 20.0  # issue 15: the sinapsi page draws at least 20 full frames per second
STRETCH = 3.0  # issue 15's stretch goal: 3x the TF Playground's training samples/s
TF_BUILD_HINT = (
    "git clone /work/.mirror/tensorflow+playground/repo /tmp/tfpg (or github.com/tensorflow/"
    "playground) && cd /tmp/tfpg && npm install && npm run build, "
    "then pass --tf-dist /tmp/tfpg/dist"
)

# The two settings of ../shared/ANCHORS.md. TF keys from its src/state.ts; sinapsi keys from the
# playground contract (protocol.py). Everything not listed is the default of both.
ALL_FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"]
TF_FEATURES = ["x", "y", "xSquared", "ySquared", "xTimesY", "sinX", "sinY"]
SETTINGS: dict[str, dict[str, Any]] = {
    "default": {
        "label": "circle, x1 x2, hidden 4-2, tanh, lr 0.03, batch 10, 50% train",
        "dataset": "circle",
        "features": 2,
        "hidden": [4, 2],
    },
    "spiral": {
        "label": "spiral, all 7 features, hidden 6 x 8, otherwise default",
        "dataset": "spiral",
        "features": 7,
        "hidden": [8] * 6,
    },
}
NUM_SAMPLES = 500  # both pages' default for classification
PERC_TRAIN = 50
N_TRAIN = NUM_SAMPLES * PERC_TRAIN // 100
TF_LOSS = "TF: mean 0.5*(tanh output - label)^2, labels -1/+1 (squared error)"
# --sinapsi-loss: what the sinapsi page trains with, and the test loss it must read below
SINAPSI_LOSSES: dict[str, dict[str, Any]] = {
    "cross_entropy": {
        "threshold": THRESHOLD,
        "name": "sinapsi: mean binary cross-entropy in nats, not the same quantity as TF's",
    },
    "softmax_mse": {
        "threshold": THRESHOLD / 2,
        "name": (
            "sinapsi: softmax_mse = mean (p - label 0/1)^2, for two classes exactly half of "
            f"TF's squared error, so < {THRESHOLD / 2:g} here is TF's < {THRESHOLD:g}"
        ),
    },
}


def tf_hash(setting: dict[str, Any], seed: int) -> str:
    """The TF Playground's URL hash (its State.serialize format) for ``setting``."""
    on = set(TF_FEATURES[: setting["features"]])
    parts = {
        "activation": "tanh",
        "batchSize": "10",
        "dataset": setting["dataset"],
        "regDataset": "reg-plane",
        "learningRate": "0.03",
        "regularizationRate": "0",
        "noise": "0",
        "networkShape": ",".join(map(str, setting["hidden"])),
        "seed": f"{seed}",
        "showTestData": "false",
        "discretize": "false",
        "percTrainData": str(PERC_TRAIN),
        **{name: str(name in on).lower() for name in TF_FEATURES + ["cosX", "cosY"]},
        "problem": "classification",
        "initZero": "false",
    }
    return "&".join(f"{k}={v}" for k, v in parts.items())


def sinapsi_hash(setting: dict[str, Any], seed: int, loss: str = "cross_entropy") -> str:
    """The sinapsi page's URL hash (contract keys, lists comma-joined, values URL-encoded)."""
    parts = {
        "dataset": setting["dataset"],
        "problem": "classification",
        "features": ",".join(ALL_FEATURES[: setting["features"]]),
        "hidden": ",".join(map(str, setting["hidden"])),
        "activation": "tanh",
        "learningRate": "0.03",
        "batchSize": "10",
        "percTrainData": str(PERC_TRAIN),
        "numSamples": str(NUM_SAMPLES),
        "noise": "0",
        "seed": str(seed),
        "loss": loss,
    }
    return "&".join(f"{k}={urllib.parse.quote(v, safe=',')}" for k, v in parts.items())


# The in-page probe: clicks play, samples the counters at fixed times, watches the loss text.
PROBE = """
async (a) => {
  const digits = (s) => parseInt(String(s || "").replace(/[^0-9]/g, ""), 10) || 0;
  const stats = () => window.playgroundStats || {};
  const epoch = () => a.stats ? Number(stats().epoch || 0)
                              : digits(document.querySelector(a.epoch).textContent);
  const frames = () => a.stats ? Number(stats().frames || 0) : epoch();
  const lossEl = document.querySelector(a.loss);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  let hit = null, t0 = 0;
  const check = () => {
    const v = parseFloat(lossEl.textContent);
    if (hit === null && t0 > 0 && v < a.threshold)
      hit = {s: (performance.now() - t0) / 1000, epoch: epoch(), loss: v};
  };
  const obs = new MutationObserver(check);
  obs.observe(lossEl, {childList: true, characterData: true, subtree: true});
  // where each frame's time went, as the sinapsi page reports it after drawing a frame
  const draws = {};
  let inWindow = false;
  const drawObs = new MutationObserver(() => {
    if (!inWindow || !a.stats) return;
    for (const k of a.timingKeys) {
      const d = stats()[k];
      if (Number.isFinite(d)) (draws[k] = draws[k] || []).push(d);
    }
  });
  drawObs.observe(document.querySelector(a.epoch), {childList: true, characterData: true,
                                                     subtree: true});
  const before = {epoch: epoch(), frames: frames(), loss: lossEl.textContent};
  t0 = performance.now();
  document.querySelector(a.play).click();
  await sleep(a.warmup * 1000);
  const s0 = {t: performance.now(), epoch: epoch(), frames: frames()};
  inWindow = true;
  await sleep(a.seconds * 1000);
  const s1 = {t: performance.now(), epoch: epoch(), frames: frames()};
  const sps = a.stats ? Number(stats().samplesPerSecond || 0) : null;
  inWindow = false;
  const timing = {};
  for (const [k, v] of Object.entries(draws)) {
    v.sort((x, y) => x - y);
    timing[k] = v[Math.floor(v.length / 2)];
  }
  while (hit === null && performance.now() - t0 < a.lossTimeout * 1000) {
    check();
    await sleep(50);
  }
  obs.disconnect();
  drawObs.disconnect();
  document.querySelector(a.play).click();  // pause
  return {before, s0, s1, sps, timing, hit, lossText: lossEl.textContent,
          total_s: (performance.now() - t0) / 1000};
}
"""

# window.playgroundStats' moving averages of where a frame's time goes (ms); medians reported
TIMING_KEYS = {"draw_ms": "drawMs", "wait_ms": "waitMs", "server_ms": "serverMs"}

PAGES: dict[str, dict[str, Any]] = {
    "tf": {"play": "#play-pause-button", "epoch": "#iter-number", "loss": "#loss-test"},
    "sinapsi": {"play": "#play-pause", "epoch": "#epoch", "loss": "#test-loss"},
}


# ----------------------------------------------------------------------------------- servers
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, what: str, timeout: float = 30.0) -> None:
    """Wait until ``url`` answers; one-line error naming ``what`` if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            tail = " | ".join(out.strip().splitlines()[-3:])
            raise SystemExit(f"{what} exited with code {proc.returncode}: {tail}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not answer at {url} within {timeout:.0f} s; is the port free?")


@contextlib.contextmanager
def server(cmd: list[str], url: str, what: str) -> Iterator[None]:
    """Run ``cmd`` in a subprocess until the block ends; wait until ``url`` answers first."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_http(url, proc, what)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tf_server(dist: Path, port: int) -> contextlib.AbstractContextManager[None]:
    cmd = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(port)]
    cmd += ["--directory", str(dist)]
    return server(cmd, f"http://127.0.0.1:{port}/index.html", "the TF Playground's http.server")


def sinapsi_server(port: int) -> contextlib.AbstractContextManager[None]:
    code = (
        "import sinapsi.playground as p; "
        f"p.serve(host='127.0.0.1', port={port}, open_browser=False)"
    )
    return server([sys.executable, "-c", code], f"http://127.0.0.1:{port}/", "sinapsi playground")


# --------------------------------------------------------------------------------- CPU load
def _proc_cpu_s(pid: int) -> tuple[float, int] | None:
    """(utime + stime + cutime + cstime seconds, parent pid) of a live process, from /proc."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    tick = os.sysconf("SC_CLK_TCK")
    return sum(int(v) for v in fields[11:15]) / tick, int(fields[1])


def tree_cpu_s() -> float:
    """CPU seconds used by this process, its reaped children and all live descendants."""
    procs: dict[int, tuple[float, int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (info := _proc_cpu_s(int(name))) is not None:
            procs[int(name)] = info
    own = os.times()
    total = own.user + own.system + own.children_user + own.children_system
    mine = {os.getpid()}
    grew = True
    while grew:
        grew = False
        for pid, (_, ppid) in procs.items():
            if ppid in mine and pid not in mine:
                mine.add(pid)
                total += procs[pid][0]
                grew = True
    return total


def machine_busy_s() -> float | None:
    """Busy CPU seconds of the whole machine since boot (/proc/stat), or None."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


class Load:
    """CPUs used during a stretch of time: by this benchmark's process tree (browser and
    servers included) and by everything else on the machine."""

    def __init__(self) -> None:
        self.t, self.busy, self.tree = time.perf_counter(), machine_busy_s(), tree_cpu_s()

    def result(self) -> dict[str, float | None]:
        dt = time.perf_counter() - self.t
        tree = (tree_cpu_s() - self.tree) / dt
        busy = machine_busy_s()
        other = None
        if busy is not None and self.busy is not None:
            other = max((busy - self.busy) / dt - tree, 0.0)
        return {"benchmark_cpus": tree, "other_cpus": other}


# ------------------------------------------------------------------------------------ runs
def route_local_only(route: Any) -> None:
    """Abort every request that leaves 127.0.0.1 (fonts, analytics)."""
    if urllib.parse.urlsplit(route.request.url).hostname == "127.0.0.1":
        route.continue_()
    else:
        route.abort()


def open_page(
    context: Any, impl: str, base: str, setting: dict[str, Any], seed: int, loss: str
) -> Any:
    """A new tab with ``setting`` (sinapsi: trained with ``loss``) loaded and ready to play;
    one-line error if it never gets ready."""
    page = context.new_page()
    if impl == "tf":
        page.goto(f"{base}/index.html#{tf_hash(setting, seed)}")
        ready = "document.querySelector('#iter-number').textContent.trim() !== ''"
        what = "the TF Playground showed no #iter-number"
    else:
        page.goto(f"{base}/#{sinapsi_hash(setting, seed, loss)}")
        n_neurons, n_in = sum(setting["hidden"]), setting["features"]
        ready = (
            "window.playgroundStats !== undefined"
            f" && document.querySelectorAll('canvas.neuron-map').length === {n_neurons}"
            f" && document.querySelectorAll('canvas.input-map').length === {n_in}"
        )
        what = (
            f"the sinapsi page did not show {n_in} canvas.input-map and {n_neurons} "
            "canvas.neuron-map with window.playgroundStats set; do the URL hash keys match?"
        )
    try:
        page.wait_for_function(ready, timeout=30_000)
    except Exception as exc:  # playwright's TimeoutError
        page.close()
        raise SystemExit(f"{what} within 30 s ({type(exc).__name__})") from None
    return page


def run_once(context: Any, impl: str, base: str, name: str, seed: int, args: Any) -> dict:
    """One measured run of ``impl`` on setting ``name``; the numbers of one row and round."""
    page = open_page(context, impl, base, SETTINGS[name], seed, args.sinapsi_loss)
    threshold = THRESHOLD if impl == "tf" else SINAPSI_LOSSES[args.sinapsi_loss]["threshold"]
    probe = dict(PAGES[impl], stats=impl == "sinapsi", threshold=threshold)
    probe["timingKeys"] = list(TIMING_KEYS.values())
    probe.update(warmup=args.warmup, seconds=args.seconds, lossTimeout=args.loss_timeout)
    try:
        raw = page.evaluate(PROBE, probe)
    finally:
        page.close()
    dt = (raw["s1"]["t"] - raw["s0"]["t"]) / 1000
    eps = (raw["s1"]["epoch"] - raw["s0"]["epoch"]) / dt
    fps = (raw["s1"]["frames"] - raw["s0"]["frames"]) / dt
    hit = raw["hit"]
    return {
        "impl": impl,
        "setting": name,
        "seed": seed,
        "window_s": dt,
        "epochs_per_s": eps,
        "samples_per_s": eps * N_TRAIN,
        "frames_per_s": fps,
        "server_samples_per_s": raw["sps"],
        **{key: raw["timing"].get(js) for key, js in TIMING_KEYS.items()},
        "loss_below_s": hit["s"] if hit else None,
        "loss_below_epoch": hit["epoch"] if hit else None,
        "final_test_loss": raw["lossText"],
        "epoch_at_start": raw["before"]["epoch"],
    }


# --------------------------------------------------------------------------------- summary
METRICS = [
    ("epochs_per_s", "epochs/s", "{:.1f}"),
    ("samples_per_s", "training samples/s", "{:,.0f}"),
    ("frames_per_s", "full frames/s", "{:.1f}"),
    ("server_samples_per_s", "samples/s (server's own figure)", "{:,.0f}"),
    ("draw_ms", "ms per frame: page drawing it", "{:.1f}"),
    ("wait_ms", "ms per frame: waiting for animation frame", "{:.1f}"),
    ("server_ms", "ms per frame: server, ack to next frame", "{:.1f}"),
    ("loss_below_s", "s until test loss < threshold", "{:.2f}"),
    ("loss_below_epoch", "epoch at test loss < threshold", "{:.0f}"),
]


def summarize(runs: list[dict], impl: str, name: str, key: str) -> dict[str, Any] | None:
    """Median, min, max and count of ``key`` over the runs of ``impl`` on ``name``."""
    rows = [r for r in runs if r["impl"] == impl and r["setting"] == name]
    values = [r[key] for r in rows if r[key] is not None]
    if not rows or not values:
        return None if not rows else {"median": None, "n": 0, "of": len(rows)}
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
        "of": len(rows),
    }


def fmt(s: dict[str, Any] | None, spec: str) -> str:
    if s is None:
        return "-"
    if s["median"] is None:
        return f"none of {s['of']}"
    text = spec.format(s["median"])
    if s["n"] > 1:
        text += f" ({spec.format(s['min'])}-{spec.format(s['max'])})"
    if s["n"] < s["of"]:
        text += f" [{s['n']} of {s['of']}]"
    return text


def report(runs: list[dict], impls: list[str], loss: str = "cross_entropy") -> dict[str, Any]:
    """Print the table, the targets and return both as a dict."""
    table: dict[str, Any] = {}
    targets: dict[str, Any] = {}
    print(f"\n{'setting / metric':<44}{'TF Playground':>26}{'sinapsi':>28}{'sinapsi/TF':>12}")
    for name, setting in SETTINGS.items():
        print(f"{name}: {setting['label']}")
        table[name] = {}
        for key, label, spec in METRICS:
            own_figure = key == "server_samples_per_s" or key in TIMING_KEYS  # sinapsi's only
            tf = summarize(runs, "tf", name, key) if "tf" in impls and not own_figure else None
            sn = summarize(runs, "sinapsi", name, key) if "sinapsi" in impls else None
            ratio = None
            comparable = key != "loss_below_epoch"  # epochs: sizes and losses differ
            if comparable and tf and sn and tf.get("median") and sn.get("median") is not None:
                ratio = sn["median"] / tf["median"]
            table[name][key] = {"tf": tf, "sinapsi": sn, "ratio": ratio}
            if tf is None and sn is None:
                continue
            r = "-" if ratio is None else f"{ratio:.2f}"
            if ratio is not None and (tf["n"] < tf["of"] or sn["n"] < sn["of"]):
                r += "*"  # some runs never got there: the ratio is over the others only
            print(f"  {label:<42}{fmt(tf, spec):>26}{fmt(sn, spec):>28}{r:>12}")
        if "sinapsi" in impls:
            targets[name] = setting_targets(table[name])
    sn_loss = SINAPSI_LOSSES[loss]
    print(f"  test loss thresholds: {TF_LOSS} < {THRESHOLD:g};")
    print(f"  {sn_loss['name']}; threshold {sn_loss['threshold']:g}")
    print("  ratios: median over median; for the time to the loss < 1 means sinapsi is faster;")
    print("  [n of m]: n runs of m got there within the time watched; * a ratio over those only")
    if targets:
        print("\ntargets (issue 15), sinapsi medians:")
        for name, ts in targets.items():
            for label, t in ts.items():
                print(f"  {name:<8} {label:<40} {t['value']:<28} {t['verdict']}")
    return {"table": table, "targets": targets}


def setting_targets(row: dict[str, Any]) -> dict[str, Any]:
    """PASS/MISS of the issue's targets for one setting (n/a where TF was not measured)."""
    fps = row["frames_per_s"]["sinapsi"]["median"]
    out = {
        f"full frames/s >= {TARGET_FPS:g}": {
            "value": f"{fps:.2f}",
            "verdict": "PASS" if fps >= TARGET_FPS else "MISS",
        }
    }
    ratio = row["samples_per_s"]["ratio"]
    for label, need in (("training samples/s >= TF's", 1.0), ("stretch: samples/s >= 3x TF's", 3)):
        if ratio is None:
            out[label] = {"value": "TF not measured", "verdict": "n/a"}
        else:
            verdict = "PASS" if ratio >= need else "MISS"
            out[label] = {"value": f"{ratio:.2f}x TF's", "verdict": verdict}
    return out


# ------------------------------------------------------------------------------------ main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="times each row runs (default 3)")
    p.add_argument("--seconds", type=float, default=5.0, help="measured window per run (5 s)")
    p.add_argument("--warmup", type=float, default=1.0, help="seconds after play before it (1)")
    p.add_argument(
        "--loss-timeout", type=float, default=20.0, help="give up on test loss < 0.1 after (20 s)"
    )
    p.add_argument("--tf-dist", type=Path, default=None, help=f"TF's dist/ ({DEFAULT_TF_DIST})")
    p.add_argument("--only", choices=("sinapsi", "tf"), default=None, help="measure one side")
    p.add_argument(
        "--sinapsi-loss",
        choices=tuple(SINAPSI_LOSSES),
        default="cross_entropy",
        help="the sinapsi page's loss (cross_entropy, its default; softmax_mse: TF's, halved)",
    )
    p.add_argument("--json", default=None, help="also write the results to this JSON file")
    args = p.parse_args(argv)
    if args.rounds < 1 or args.seconds <= 0 or args.warmup < 0 or args.loss_timeout < 0:
        p.error("--rounds must be >= 1, --seconds > 0, --warmup and --loss-timeout >= 0")
    if args.tf_dist is not None and not (args.tf_dist / "index.html").is_file():
        p.error(f"--tf-dist {args.tf_dist} has no index.html; build it: {TF_BUILD_HINT}")
    return args


def choose_impls(args: argparse.Namespace) -> tuple[list[str], Path | None]:
    """Which pages to measure, and TF's dist/ folder when it is one of them."""
    dist = args.tf_dist
    if dist is None and (Path(DEFAULT_TF_DIST) / "index.html").is_file():
        dist = Path(DEFAULT_TF_DIST)
    impls = ["tf", "sinapsi"] if args.only is None else [args.only]
    if "tf" in impls and dist is None:
        if args.only == "tf":
            raise SystemExit(f"no TF Playground build at {DEFAULT_TF_DIST}; {TF_BUILD_HINT}")
        print(f"TF Playground skipped: no build at {DEFAULT_TF_DIST}; {TF_BUILD_HINT}")
        impls.remove("tf")
    return impls, dist


def environment(browser_version: str) -> dict[str, Any]:
    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    return {
        "python": platform.python_version(),
        "sinapsi": version("sinapsi"),
        "playwright": version("playwright"),
        "chromium": browser_version,
        "cpu": cpu_name(),
        "cpus_available": cpu_count(),
        "loadavg_1m_before": os.getloadavg()[0],
        "env": {name: os.environ.get(name) for name in OPENBLAS_VARS},
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    impls, dist = choose_impls(args)
    from playwright.sync_api import sync_playwright

    if not os.access(CHROMIUM, os.X_OK):
        raise SystemExit(f"{CHROMIUM} not found; install Debian's chromium (make test does)")
    ports = {impl: free_port() for impl in impls}
    bases = {impl: f"http://127.0.0.1:{port}" for impl, port in ports.items()}
    runs: list[dict] = []
    with contextlib.ExitStack() as stack:
        if "tf" in impls:
            stack.enter_context(tf_server(dist, ports["tf"]))
        if "sinapsi" in impls:
            stack.enter_context(sinapsi_server(ports["sinapsi"]))
        pw = stack.enter_context(sync_playwright())
        browser = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"], headless=True
        )
        stack.callback(browser.close)
        env = environment(browser.version)
        context = browser.new_context(viewport=VIEWPORT)
        context.route("**/*", route_local_only)
        print("playground benchmark: TF Playground vs sinapsi playground, headless Chromium")
        print(
            f"  chromium {env['chromium']}  playwright {env['playwright']}  python {env['python']}"
            f"  sinapsi {env['sinapsi']}"
        )
        print(f"  cpu {env['cpu']} ({env['cpus_available']} available), load average (1 min) "
              f"{env['loadavg_1m_before']:.2f} before the run")  # fmt: skip
        for name, value in env["env"].items():
            print(f"  {name}: {'not set' if value is None else repr(value)} (left as found)")
        print(
            f"  {args.rounds} round(s); per run {args.warmup:g} s warm-up, {args.seconds:g} s "
            f"window, test loss < threshold watched up to {args.loss_timeout:g} s; "
            f"{N_TRAIN} training points"
        )
        load = Load()
        for r in range(args.rounds):
            for name in SETTINGS:
                for impl in impls:
                    run = run_once(context, impl, bases[impl], name, r + 1, args)
                    runs.append(run)
                    hit = run["loss_below_s"]
                    print(
                        f"  round {r + 1} {name:<8}{impl:<8} {run['epochs_per_s']:7.1f} epochs/s"
                        f" {run['frames_per_s']:6.1f} frames/s  loss < threshold: "
                        + ("not reached" if hit is None else f"{hit:.2f} s")
                        + f"  (test loss {run['final_test_loss']})",
                        flush=True,
                    )
                    time.sleep(1.0)  # let the closed tab's training stop before the next row
        env.update(load.result())
    out = report(runs, impls, args.sinapsi_loss)
    print(
        f"\nCPU during the runs: this benchmark (browser, servers) {env['benchmark_cpus']:.2f} of "
        f"{env['cpus_available']} CPUs, other processes {env['other_cpus'] or 0:.2f}"
        + (" -- busy machine, timings unreliable" if (env["other_cpus"] or 0) > 0.3 else "")
    )
    result = {"environment": env, "args": {k: str(v) for k, v in vars(args).items()}}
    losses = {"tf": {"name": TF_LOSS, "threshold": THRESHOLD}}
    losses["sinapsi"] = SINAPSI_LOSSES[args.sinapsi_loss]
    result.update(impls=impls, runs=runs, losses=losses, **out)
    if args.json:
        write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
