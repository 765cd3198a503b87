// Drawing helpers for the playground page: the colour scale, heat maps, the loss chart,
// the gradient panel and the data-set thumbnails. Plain canvas, no library.

/** TF Playground's colours: orange for -1, light grey for 0, blue for +1. */
export const NEG = [0xf5, 0x93, 0x22];
export const MID = [0xe8, 0xea, 0xeb];
export const POS = [0x08, 0x77, 0xbd];
const NUM_SHADES = 30; // TF quantizes the scale into 30 shades; we do the same for its look

/** The RGB colour of a value in [-1, 1] (clipped), as an array of three bytes. */
export function rgbOf(v) {
  const t = Math.max(-1, Math.min(1, v));
  const [a, b, u] = t < 0 ? [MID, NEG, -t] : [MID, POS, t];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * u));
}

/** CSS colour string of a value in [-1, 1]. */
export function cssOf(v) {
  const [r, g, b] = rgbOf(v);
  return `rgb(${r},${g},${b})`;
}

/** 256 packed RGBA pixels (little endian) for the uint8 codes v -> (v/255)*2-1. */
function makeLut(discrete) {
  const lut = new Uint32Array(256);
  for (let v = 0; v < 256; v++) {
    let x = (v / 255) * 2 - 1;
    if (discrete) {
      x = x >= 0 ? 1 : -1;
    } else {
      x = Math.round(((x + 1) / 2) * NUM_SHADES) / NUM_SHADES * 2 - 1;
    }
    const [r, g, b] = rgbOf(x);
    lut[v] = (255 << 24) | (b << 16) | (g << 8) | r;
  }
  return lut;
}
export const LUT = makeLut(false);
export const LUT_DISCRETE = makeLut(true);

/** Bytes of a base64 string (the frames' uint8 maps). */
export function decodeB64(s) {
  const bin = atob(s);
  const n = bin.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Paint a size x size uint8 map onto a canvas of that size (CSS scales it). */
export function paintMap(canvas, bytes, lut) {
  const n = canvas.width;
  if (!bytes || bytes.length !== n * n) return;
  let img = canvas._img;
  if (!img || img.width !== n) {
    img = canvas.getContext("2d").createImageData(n, n);
    canvas._img = img;
    canvas._px = new Uint32Array(img.data.buffer);
  }
  const px = canvas._px;
  for (let i = 0; i < bytes.length; i++) px[i] = lut[bytes[i]];
  canvas.getContext("2d").putImageData(img, 0, 0);
}

/** The big output heat map: a G x G map scaled up, with the data points on top. */
export class OutputMap {
  constructor(canvas, cssSize) {
    this.canvas = canvas;
    this.size = cssSize;
    const dpr = Math.min(2, window.devicePixelRatio || 1);
    canvas.width = canvas.height = Math.round(cssSize * dpr);
    canvas.style.width = canvas.style.height = `${cssSize}px`;
    this.ctx = canvas.getContext("2d");
    this.heat = document.createElement("canvas");
    this.heat.width = this.heat.height = 100;
    this.points = document.createElement("canvas");
    this.points.width = this.points.height = canvas.width;
    this.domain = [-6, 6];
    this.ctx.fillStyle = "#fff";
    this.ctx.fillRect(0, 0, canvas.width, canvas.height);
  }

  /** Draw the points (train: white outline; test: black outline when shown). */
  setPoints(data, showTest) {
    const c = this.points;
    const ctx = c.getContext("2d");
    ctx.clearRect(0, 0, c.width, c.height);
    if (!data) return;
    const [lo, hi] = data.domain || this.domain;
    this.domain = [lo, hi];
    const s = c.width / (hi - lo);
    const r = Math.max(2.5, c.width / 100);
    const scale = data.problem === "regression" ? data.yScale || 1 : 1;
    const colour = (y) =>
      data.problem === "regression" ? cssOf(y / scale) : y >= 0.5 ? cssOf(1) : cssOf(-1);
    const draw = (set, stroke) => {
      if (!set || !set.x) return;
      ctx.lineWidth = Math.max(1, c.width / 300);
      ctx.strokeStyle = stroke;
      for (let i = 0; i < set.x.length; i++) {
        const [x1, x2] = set.x[i];
        ctx.beginPath();
        ctx.arc((x1 - lo) * s, (hi - x2) * s, r, 0, 2 * Math.PI);
        ctx.fillStyle = colour(set.y[i]);
        ctx.fill();
        ctx.stroke();
      }
    };
    draw(data.train, "rgba(255,255,255,0.9)");
    if (showTest) draw(data.test, "rgba(0,0,0,0.7)");
  }

  /** Paint the map bytes (G x G) and the points layer. */
  draw(bytes, lut) {
    const g = Math.round(Math.sqrt(bytes ? bytes.length : 0));
    if (!g) return;
    if (this.heat.width !== g) this.heat.width = this.heat.height = g;
    paintMap(this.heat, bytes, lut);
    const ctx = this.ctx;
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(this.heat, 0, 0, this.canvas.width, this.canvas.height);
    ctx.drawImage(this.points, 0, 0);
  }
}

/** The loss chart: the current run (training grey, test black) and earlier runs faded. */
export class LossChart {
  constructor(canvas, width, height) {
    this.canvas = canvas;
    const dpr = Math.min(2, window.devicePixelRatio || 1);
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    this.dpr = dpr;
    this.runs = []; // earlier runs, oldest first
    this.maxRuns = 8;
    this.current = this.emptyRun();
  }

  emptyRun() {
    return { epoch: [], train: [], test: [] };
  }

  /** Start a new run: the current curve (if any) becomes an earlier run. */
  newRun() {
    if (this.current.epoch.length > 1) {
      this.runs.push(this.current);
      if (this.runs.length > this.maxRuns) this.runs.shift();
    }
    this.current = this.emptyRun();
  }

  add(epoch, train, test) {
    const r = this.current;
    const n = r.epoch.length;
    if (n && epoch < r.epoch[n - 1]) this.newRun();
    if (n && epoch === r.epoch[n - 1]) {
      r.train[n - 1] = train;
      r.test[n - 1] = test;
      return;
    }
    r.epoch.push(epoch);
    r.train.push(train);
    r.test.push(test);
    if (r.epoch.length > 3000) {
      // keep the chart's cost bounded: drop every other point, keep the last
      for (const k of ["epoch", "train", "test"]) {
        const a = r[k];
        const last = a[a.length - 1];
        r[k] = a.filter((_, i) => i % 2 === 0);
        if (r[k][r[k].length - 1] !== last) r[k].push(last);
      }
    }
  }

  draw() {
    const c = this.canvas;
    const ctx = c.getContext("2d");
    const W = c.width;
    const H = c.height;
    const pad = 3 * this.dpr;
    ctx.clearRect(0, 0, W, H);
    const cur = this.current;
    const n = cur.epoch.length;
    // the window is the current run's epochs (at least 10): earlier runs are compared over
    // the same epochs; the y range is the current run's (the earlier runs' before it has two)
    const xmax = Math.max(10, n ? cur.epoch[n - 1] : 0);
    let ymax = 0;
    const grow = (run) => {
      for (const k of ["train", "test"]) {
        const v = run[k];
        for (let i = 0; i < v.length; i++) {
          if (run.epoch[i] <= xmax && Number.isFinite(v[i]) && v[i] > ymax) ymax = v[i];
        }
      }
    };
    if (n >= 2) grow(cur);
    else for (const r of [...this.runs, cur]) grow(r);
    if (ymax <= 0) ymax = 1;
    const X = (e) => pad + (e / xmax) * (W - 2 * pad);
    const Y = (v) => H - pad - (Math.min(v, ymax) / ymax) * (H - 2 * pad);
    const line = (run, key, style, width) => {
      const e = run.epoch;
      const v = run[key];
      if (e.length < 1) return;
      ctx.strokeStyle = style;
      ctx.lineWidth = width * this.dpr;
      ctx.beginPath();
      let started = false;
      for (let i = 0; i < e.length; i++) {
        if (e[i] > xmax || !Number.isFinite(v[i])) continue;
        const x = X(e[i]);
        const y = Y(v[i]);
        if (started) ctx.lineTo(x, y);
        else {
          ctx.moveTo(x, y);
          started = true;
        }
      }
      ctx.stroke();
    };
    for (const r of this.runs) {
      line(r, "train", "rgba(119,119,119,0.25)", 1);
      line(r, "test", "rgba(0,0,0,0.2)", 1);
    }
    line(cur, "train", "#777", 1.5);
    line(cur, "test", "#000", 1.5);
    ctx.fillStyle = "#999";
    ctx.font = `${10 * this.dpr}px Helvetica, Arial, sans-serif`;
    ctx.textBaseline = "top";
    ctx.textAlign = "right";
    ctx.fillText(ymax.toPrecision(3), W - pad - 2, pad);
  }
}

/** Log-scale position in [0, 1] of a gradient norm between 1e-8 and 1e4. */
function logPos(v) {
  if (!(v > 0)) return 0;
  const t = (Math.log10(v) + 8) / 12;
  return Math.max(0.005, Math.min(1, t));
}

const DIAG_CLASS = { vanishing: "diag-vanishing", exploding: "diag-exploding", dead_relu: "diag-dead" };

/** The GRADIENTS panel: one bar per layer (log scale) and the diagnosis lines. */
export class GradPanel {
  constructor(root) {
    this.root = root;
    this.bars = root.querySelector(".grad-bars");
    this.list = root.querySelector(".diagnosis");
    this.rows = [];
    this.lastDiag = "";
    const axis = root.querySelector(".grad-axis");
    axis.innerHTML = ["1e-8", "1e-5", "1e-2", "10", "1e4"]
      .map((t, i) => `<span style="left:${(i / 4) * 100}%">${t}</span>`)
      .join("");
  }

  update(gradNorms, diagnosis) {
    gradNorms = gradNorms || [];
    if (this.rows.length !== gradNorms.length) {
      this.bars.textContent = "";
      this.bars.classList.toggle("two-col", gradNorms.length > 6);
      this.rows = gradNorms.map(() => {
        const row = document.createElement("div");
        row.className = "grad-row";
        row.innerHTML =
          '<span class="grad-name"></span><span class="grad-track"><span class="grad-bar">' +
          '</span></span><span class="grad-value"></span>';
        this.bars.appendChild(row);
        return {
          name: row.querySelector(".grad-name"),
          bar: row.querySelector(".grad-bar"),
          value: row.querySelector(".grad-value"),
          last: null,
        };
      });
    }
    gradNorms.forEach((g, i) => {
      const r = this.rows[i];
      const text = Number.isFinite(g.norm) ? g.norm.toExponential(1) : String(g.norm);
      if (r.last === text && r.name.textContent === g.layer) return;
      r.last = text;
      r.name.textContent = g.layer;
      r.name.title = g.layer;
      r.value.textContent = text;
      r.bar.style.width = `${(logPos(g.norm) * 100).toFixed(1)}%`;
      const cls = g.norm > 1e2 ? "hot" : g.norm < 1e-5 ? "cold" : "";
      r.bar.className = `grad-bar ${cls}`;
    });
    const key = JSON.stringify(diagnosis || []) + gradNorms.every((g) => !g.norm);
    if (key === this.lastDiag) return;
    this.lastDiag = key;
    this.list.textContent = "";
    for (const d of diagnosis || []) {
      const li = document.createElement("li");
      li.className = DIAG_CLASS[d.kind] || "diag-other";
      // the server's message names its layer ("layer 0 gets ..."); say it once
      li.textContent = d.message.startsWith(d.layer) ? d.message : `${d.layer}: ${d.message}`;
      li.title = li.textContent;
      this.list.appendChild(li);
    }
    if (!(diagnosis || []).length && gradNorms.length) {
      const li = document.createElement("li");
      const none = gradNorms.every((g) => !g.norm);
      li.className = none ? "diag-none" : "diag-ok";
      li.textContent = none ? "No gradients yet: press play or step." : "Gradients look healthy.";
      this.list.appendChild(li);
    }
  }
}

/** A small seeded random generator so the thumbnails look the same on every load. */
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** Points [x1, x2, value in [-1,1]] that sketch each data set on its thumbnail. */
function sketch(name) {
  const r = rng(7);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const pts = [];
  const n = 120;
  for (let i = 0; i < n; i++) {
    if (name === "circle") {
      const inner = i % 2 === 0;
      const rad = inner ? r() * 2.5 : 3.5 + r() * 1.5;
      const a = r() * 2 * Math.PI;
      pts.push([rad * Math.cos(a), rad * Math.sin(a), inner ? 1 : -1]);
    } else if (name === "xor") {
      let x = r() * 10 - 5;
      let y = r() * 10 - 5;
      x += x > 0 ? 0.3 : -0.3;
      y += y > 0 ? 0.3 : -0.3;
      pts.push([x, y, x * y >= 0 ? 1 : -1]);
    } else if (name === "gauss") {
      const pos = i % 2 === 0;
      const c = pos ? 2 : -2;
      pts.push([c + gauss(), c + gauss(), pos ? 1 : -1]);
    } else if (name === "spiral") {
      const k = Math.floor(i / 2);
      const delta = i % 2 === 0 ? 0 : Math.PI;
      const rad = (k / (n / 2)) * 5;
      const t = 1.75 * (k / (n / 2)) * 2 * Math.PI + delta;
      pts.push([rad * Math.sin(t), rad * Math.cos(t), i % 2 === 0 ? 1 : -1]);
    } else if (name === "moons") {
      const up = i % 2 === 0;
      const t = r() * Math.PI;
      const x = up ? Math.cos(t) : 1 - Math.cos(t);
      const y = up ? Math.sin(t) : 0.5 - Math.sin(t);
      pts.push([(x - 0.5) * 3.5, (y - 0.25) * 3.5, up ? 1 : -1]);
    } else if (name === "reg-plane") {
      const x = r() * 12 - 6;
      const y = r() * 12 - 6;
      pts.push([x, y, (x + y) / 10]);
    } else if (name === "reg-gauss") {
      const x = r() * 12 - 6;
      const y = r() * 12 - 6;
      const centres = [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]];
      let v = 0;
      for (const [cx, cy, s] of centres) v += s * Math.exp(-((x - cx) ** 2 + (y - cy) ** 2) / 2);
      pts.push([x, y, v]);
    }
  }
  return pts;
}

/** Draw one data-set thumbnail (the uploaded set shows a file glyph). */
export function drawThumbnail(canvas) {
  const name = canvas.dataset.dataset;
  const ctx = canvas.getContext("2d");
  const W = canvas.width;
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, W);
  if (name === "upload") {
    ctx.strokeStyle = "#888";
    ctx.lineWidth = 2;
    ctx.strokeRect(W * 0.3, W * 0.2, W * 0.4, W * 0.55);
    ctx.fillStyle = "#666";
    ctx.font = `bold ${Math.round(W / 5)}px Helvetica, Arial, sans-serif`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.fillText("CSV", W / 2, W * 0.5);
    return;
  }
  const s = W / 12;
  for (const [x, y, v] of sketch(name)) {
    ctx.fillStyle = cssOf(v);
    ctx.beginPath();
    ctx.arc((x + 6) * s, (6 - y) * s, W / 40, 0, 2 * Math.PI);
    ctx.fill();
  }
}
