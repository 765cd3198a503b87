// The sinapsi playground page: settings (URL hash <-> controls <-> server), the WebSocket,
// and the render loop (draw the latest frame on requestAnimationFrame, then ack it).

import { GradPanel, LUT, LUT_DISCRETE, LossChart, OutputMap, decodeB64, drawThumbnail } from "./charts.js";
import { NetworkView } from "./network.js";
import { DEFAULTS, TYPES, clickableByKeyboard, formatHash, parseHash } from "./settings.js";

const ALL_FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)"];
const CLASS_SETS = ["circle", "xor", "gauss", "spiral", "moons"];
const REG_SETS = ["reg-plane", "reg-gauss"];
const LR_VALUES = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const REG_RATES = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const LOSSES = {
  classification: ["auto", "cross_entropy", "softmax_mse"],
  regression: ["auto", "mse", "mae", "huber"],
};
const LABELS = {
  auto: "auto", cross_entropy: "cross-entropy", softmax_mse: "softmax + squared error",
  mse: "squared error (MSE)", mae: "absolute error (MAE)", huber: "Huber",
};
const MAX_LAYERS = 12;
const MAX_NEURONS = 64;
const MAX_UPLOAD = 1 << 20;

const $ = (sel) => document.querySelector(sel);

function zeroPadCommas(n) {
  const s = String(Math.max(0, Math.floor(n))).padStart(6, "0");
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

function fmtLoss(v) {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(3) : "–";
}

class Playground {
  constructor() {
    this.initialHash = parseHash(location.hash); // what the user asked for, before we fill it
    this.settings = { ...DEFAULTS, ...this.initialHash };
    this.bounds = {};
    this.features = ALL_FEATURES;
    this.data = null;
    this.playing = false;
    this.pending = null; // latest frame not drawn yet
    this.last = null; // last drawn frame (redrawn on display-only changes)
    this.rafId = 0;
    this.hoverNeuron = null;
    this.errorTimer = 0;
    this.ws = null;
    this.confirmed = null; // the settings the server last accepted (hello / settings echo)
    this.stats = { frames: 0, epoch: 0, startedAt: Date.now(), samplesPerSecond: 0 };
    window.playgroundStats = this.stats;
    this.output = new OutputMap($("#output-map"), 300);
    this.chart = new LossChart($("#loss-chart"), 300, 80);
    this.grads = new GradPanel($("#grad-panel"));
    this.net = new NetworkView($("#network"), {
      toggleFeature: (name) => this.toggleFeature(name),
      addNeuron: (i) => this.changeNeurons(i, +1),
      removeNeuron: (i) => this.changeNeurons(i, -1),
      setWeight: (layer, row, col, value) =>
        this.send({ type: "set_weight", layer, row, col, value }),
      hoverNeuron: (l, i) => {
        this.hoverNeuron = l === null ? null : [l, i];
        this.redraw();
      },
    });
    this.fillSelect($("#learningRate"), LR_VALUES);
    this.fillSelect($("#regularizationRate"), REG_RATES);
    this.bindControls();
    this.drawAxes();
    document.querySelectorAll("canvas.data-thumbnail").forEach(drawThumbnail);
    this.showSettings();
    this.writeHash();
    this.connect();
  }

  // ---- connection -------------------------------------------------------------------
  connect() {
    // each connection (the first, or after the server restarted) starts from the hash
    this.fromHash = this.initialHash || parseHash(location.hash);
    this.initialHash = null;
    if (this.fromHash.dataset === "upload") delete this.fromHash.dataset; // the file is gone
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
    const ws = new WebSocket(url);
    this.ws = ws;
    this.status("connecting…");
    ws.onopen = () => this.status("connected");
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        this.showError("The server sent a message that is not JSON; reload the page.");
        return;
      }
      this.handle(msg);
    };
    ws.onclose = () => {
      this.setPlaying(false);
      this.status("disconnected: retrying…");
      setTimeout(() => this.connect(), 1500);
    };
  }

  send(msg) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(msg));
  }

  handle(msg) {
    switch (msg.type) {
      case "hello": return this.onHello(msg);
      case "settings": return this.onServerSettings(msg.settings || {});
      case "data": return this.onData(msg);
      case "network": return this.onNetwork(msg);
      case "frame":
        this.pending = msg;
        this.arrived = performance.now();
        if (!this.rafId) this.rafId = requestAnimationFrame(() => this.render());
        return undefined;
      case "error":
        this.revert();
        return this.showError(msg.message || "error");
      case "export": return this.download(msg);
      case "stopped":
        this.setPlaying(false);
        this.status(`stopped at epoch ${msg.epoch}`);
        return this.showError(msg.message || "training stopped");
      default: return undefined;
    }
  }

  onHello(msg) {
    this.bounds = msg.bounds || {};
    if (Array.isArray(msg.features) && msg.features.length) this.features = msg.features;
    this.applyBounds();
    const server = msg.settings || {};
    this.confirmed = { ...DEFAULTS, ...server };
    this.settings = { ...this.confirmed, ...this.fromHash };
    // the hash wins: send what it says as the first settings message
    const first = {};
    for (const k of Object.keys(this.fromHash)) {
      if (JSON.stringify(this.fromHash[k]) !== JSON.stringify(server[k])) first[k] = this.fromHash[k];
    }
    if (Object.keys(first).length) this.send({ type: "settings", settings: first });
    this.fromHash = {};
    this.showSettings();
    this.writeHash();
    this.status(`connected${msg.version ? ` · sinapsi ${msg.version}` : ""}`);
  }

  onServerSettings(s) {
    this.confirmed = { ...this.confirmed, ...s };
    this.settings = { ...this.settings, ...s };
    this.showSettings();
    this.writeHash();
  }

  /** After a refused message: show the settings the server last accepted again. */
  revert() {
    if (!this.confirmed) return;
    this.settings = { ...this.confirmed };
    this.showSettings();
    this.writeHash();
  }

  onData(msg) {
    const data = msg;
    if (data.problem === "regression") {
      let m = 1;
      for (const set of [data.train, data.test]) {
        for (const y of (set && set.y) || []) m = Math.max(m, Math.abs(y));
      }
      data.yScale = m;
    }
    this.data = data;
    this.output.setPoints(data, this.settings.showTestData);
    this.drawAxes();
    this.redraw();
  }

  onNetwork(msg) {
    this.network = msg;
    this.chart.newRun();
    const domain = (this.data && this.data.domain) || [-6, 6];
    this.net.build(msg, this.features, domain);
    this.net.setDiscrete(this.settings.discretize);
    const h = msg.layers.length - 2;
    $("#num-layers").textContent = String(h);
    $("#layers-label").textContent = h === 1 ? "hidden layer" : "hidden layers";
    if (this.last) this.net.update(this.last, true);
  }

  // ---- rendering --------------------------------------------------------------------
  render() {
    this.rafId = 0;
    const f = this.pending;
    this.pending = null;
    if (!f) return;
    this.last = f;
    this.chart.add(f.epoch, f.trainLoss, f.testLoss);
    const t0 = performance.now();
    this.draw(f);
    const t1 = performance.now();
    // where a frame's time goes (moving averages, ms): drawing it, waiting for the animation
    // frame, and the server (from our ack to the next frame's arrival)
    const st = this.stats;
    const avg = (old, v) => (old === undefined ? v : old * 0.9 + v * 0.1);
    st.drawMs = avg(st.drawMs, t1 - t0);
    st.waitMs = avg(st.waitMs, t0 - this.arrived);
    if (this.ackedAt) st.serverMs = avg(st.serverMs, this.arrived - this.ackedAt);
    st.frames += 1;
    st.epoch = f.epoch;
    st.samplesPerSecond = f.samplesPerSecond || 0;
    this.send({ type: "ack" });
    this.ackedAt = performance.now();
  }

  redraw() {
    if (this.last) this.draw(this.last);
  }

  draw(f) {
    const lut = this.settings.discretize ? LUT_DISCRETE : LUT;
    $("#epoch").textContent = zeroPadCommas(f.epoch || 0);
    $("#train-loss").textContent = fmtLoss(f.trainLoss);
    $("#test-loss").textContent = fmtLoss(f.testLoss);
    const eps = f.epochsPerSecond;
    $("#speed").textContent = Number.isFinite(eps) && eps > 0
      ? `${eps.toFixed(eps < 10 ? 1 : 0)} epochs/s · ${Math.round(f.samplesPerSecond || 0)} samples/s` : "";
    if (typeof f.playing === "boolean") this.setPlaying(f.playing);
    let map = f.output;
    if (this.hoverNeuron && f.neurons) {
      const [l, i] = this.hoverNeuron;
      if (f.neurons[l] && f.neurons[l][i]) map = f.neurons[l][i];
    }
    if (map) this.output.draw(decodeB64(map), lut);
    this.net.update(f);
    this.chart.draw();
    this.grads.update(f.gradNorms, f.diagnosis);
  }

  drawAxes() {
    const [lo, hi] = (this.data && this.data.domain) || [-6, 6];
    const ticks = [];
    for (let k = 0; k <= 4; k++) ticks.push(lo + ((hi - lo) * k) / 4);
    const label = (v) => String(Math.round(v * 10) / 10);
    $("#heatmap .x-axis").innerHTML = ticks
      .map((v, k) => `<span style="left:${(k / 4) * 100}%">${label(v)}</span>`).join("");
    $("#heatmap .y-axis").innerHTML = ticks
      .map((v, k) => `<span style="top:${(1 - k / 4) * 100}%">${label(v)}</span>`).join("");
  }

  setPlaying(on) {
    this.playing = on;
    const b = $("#play-pause");
    b.classList.toggle("playing", on);
    b.setAttribute("aria-label", on ? "Pause" : "Play");
    b.title = on ? "Pause" : "Run";
    b.dataset.state = on ? "playing" : "paused";
  }

  // ---- settings ---------------------------------------------------------------------
  /** Apply a partial settings change locally, in the hash, and on the server. */
  change(patch) {
    this.settings = { ...this.settings, ...patch };
    this.showSettings();
    this.writeHash();
    this.send({ type: "settings", settings: patch });
  }

  writeHash() {
    const h = `#${formatHash(this.settings)}`;
    if (location.hash !== h) history.replaceState(null, "", h);
  }

  fillSelect(sel, values, current) {
    const vals = [...values];
    if (current !== undefined && !vals.some((v) => String(v) === String(current))) {
      vals.push(current);
      vals.sort((a, b) => (typeof a === "number" ? a - b : 0));
    }
    const key = vals.join("|");
    if (sel.dataset.options === key) return;
    sel.dataset.options = key;
    sel.textContent = "";
    for (const v of vals) {
      const o = document.createElement("option");
      o.value = String(v);
      o.textContent = LABELS[v] || String(v);
      sel.appendChild(o);
    }
  }

  lossChoices(problem) {
    // the server's list wins where it knows fewer losses than this page
    const known = this.bounds.loss && this.bounds.loss.choices;
    const mine = LOSSES[problem] || LOSSES.classification;
    return Array.isArray(known) ? mine.filter((l) => known.includes(l)) : mine;
  }

  applyBounds() {
    for (const [key, b] of Object.entries(this.bounds)) {
      const input = document.getElementById(key);
      if (!input || input.tagName !== "INPUT" || input.type === "checkbox") continue;
      let lo;
      let hi;
      if (Array.isArray(b) && b.length === 2 && b.every((x) => typeof x === "number")) [lo, hi] = b;
      else if (b && typeof b === "object") {
        lo = b.min ?? b.lo;
        hi = b.max ?? b.hi;
      }
      if (typeof lo === "number") input.min = String(lo);
      if (typeof hi === "number") input.max = String(hi);
    }
  }

  /** Show this.settings in every control. */
  showSettings() {
    const s = this.settings;
    this.fillSelect($("#learningRate"), LR_VALUES, s.learningRate);
    this.fillSelect($("#regularizationRate"), REG_RATES, s.regularizationRate);
    this.fillSelect($("#loss"), this.lossChoices(s.problem), s.loss);
    for (const key of Object.keys(TYPES)) {
      const input = document.getElementById(key);
      if (!input || s[key] === undefined) continue;
      if (input.type === "checkbox") input.checked = !!s[key];
      else if (document.activeElement !== input || input.tagName === "SELECT") {
        input.value = String(s[key]);
      }
    }
    document.querySelectorAll("[data-show]").forEach((e) => {
      e.textContent = String(s[e.dataset.show]);
    });
    document.querySelectorAll("canvas.data-thumbnail").forEach((c) => {
      const name = c.dataset.dataset;
      c.classList.toggle("selected", name === s.dataset);
      const reg = REG_SETS.includes(name);
      const other = name !== "upload" && (s.problem === "regression" ? !reg : reg);
      c.classList.toggle("other-problem", other);
    });
    const momentumUsed = ["momentum", "nesterov", "rmsprop"].includes(s.optimizer);
    $("#momentum").disabled = !momentumUsed;
    $("#regularizationRate").disabled = s.regularization === "none";
    $("#remove-layer").disabled = !(s.hidden && s.hidden.length);
    $("#add-layer").disabled = !!(s.hidden && s.hidden.length >= MAX_LAYERS);
  }

  readControl(input) {
    const key = input.id;
    const type = TYPES[key];
    if (input.type === "checkbox") return input.checked;
    if (type === "int" || type === "float") {
      const v = Number(input.value);
      return input.value.trim() === "" || !Number.isFinite(v) ? undefined : v;
    }
    return input.value;
  }

  bindControls() {
    for (const key of Object.keys(TYPES)) {
      const input = document.getElementById(key);
      if (!input) continue;
      if (input.type === "range") {
        input.addEventListener("input", () => {
          const e = document.querySelector(`[data-show="${key}"]`);
          if (e) e.textContent = input.value;
        });
      }
      input.addEventListener("change", () => {
        const v = this.readControl(input);
        if (v === undefined) {
          this.showError(`${key} needs a number; type one and press Enter.`);
          input.value = String(this.settings[key]);
          return;
        }
        if (key === "problem") return this.changeProblem(v);
        if (key === "showTestData") {
          this.change({ showTestData: v });
          this.output.setPoints(this.data, v);
          return this.redraw();
        }
        if (key === "discretize") {
          this.change({ discretize: v });
          this.net.setDiscrete(v);
          return this.redraw();
        }
        return this.change({ [key]: v });
      });
    }
    document.querySelectorAll("[data-dataset]").forEach((c) => {
      c.addEventListener("click", () => this.chooseDataset(c.dataset.dataset));
      clickableByKeyboard(c, c.parentElement.title);
    });
    $("#play-pause").addEventListener("click", () => {
      const on = !this.playing;
      this.setPlaying(on);
      this.send({ type: on ? "play" : "pause" });
    });
    $("#step").addEventListener("click", () => {
      this.setPlaying(false);
      this.send({ type: "step" });
    });
    $("#reset").addEventListener("click", () => this.send({ type: "reset" }));
    $("#regenerate").addEventListener("click", () => {
      this.settings.seed = (this.settings.seed || 0) + 1;
      this.showSettings();
      this.writeHash();
      this.send({ type: "regenerate" });
    });
    $("#add-layer").addEventListener("click", () => {
      const h = [...(this.settings.hidden || [])];
      if (h.length >= MAX_LAYERS) return this.showError(`At most ${MAX_LAYERS} hidden layers.`);
      h.push(2);
      return this.change({ hidden: h });
    });
    $("#remove-layer").addEventListener("click", () => {
      const h = [...(this.settings.hidden || [])];
      if (!h.length) return undefined;
      h.pop();
      return this.change({ hidden: h });
    });
    for (const what of ["toml", "model", "report"]) {
      $(`#export-${what}`).addEventListener("click", () => this.send({ type: "export", what }));
    }
    $("#upload").addEventListener("change", (ev) => this.upload(ev.target));
    window.addEventListener("hashchange", () => {
      const h = parseHash(location.hash);
      const patch = {};
      for (const [k, v] of Object.entries(h)) {
        if (JSON.stringify(v) !== JSON.stringify(this.settings[k])) patch[k] = v;
      }
      if (Object.keys(patch).length) this.change(patch);
    });
    let resizeTimer = 0;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => {
        if (this.network) this.onNetworkResize();
      }, 200);
    });
  }

  onNetworkResize() {
    const domain = (this.data && this.data.domain) || [-6, 6];
    this.net.build(this.network, this.features, domain);
    if (this.last) this.net.update(this.last, true);
  }

  changeProblem(problem) {
    // the server makes the rest consistent (data set, loss, samples) and echoes the settings
    this.change({ problem });
  }

  chooseDataset(name) {
    if (name === "upload" && this.settings.dataset !== "upload") {
      $("#upload").click(); // choose a file first; the upload switches the data set
      return;
    }
    const patch = { dataset: name };
    // a regression set implies the regression problem and back (as the server does)
    if (REG_SETS.includes(name) && this.settings.problem !== "regression") {
      patch.problem = "regression";
    } else if (CLASS_SETS.includes(name) && this.settings.problem !== "classification") {
      patch.problem = "classification";
    }
    if (patch.problem && !this.lossChoices(patch.problem).includes(this.settings.loss)) {
      patch.loss = "auto";
    }
    this.change(patch);
  }

  toggleFeature(name) {
    const cur = this.settings.features || [];
    let next;
    if (cur.includes(name)) {
      if (cur.length === 1) return this.showError("Keep at least one input feature; turn another on first.");
      next = cur.filter((f) => f !== name);
    } else {
      next = this.features.filter((f) => f === name || cur.includes(f));
    }
    return this.change({ features: next });
  }

  changeNeurons(i, delta) {
    const h = [...(this.settings.hidden || [])];
    if (i >= h.length) return undefined;
    const n = h[i] + delta;
    if (n < 1 || n > MAX_NEURONS) {
      return this.showError(`A hidden layer holds 1 to ${MAX_NEURONS} neurons.`);
    }
    h[i] = n;
    return this.change({ hidden: h });
  }

  upload(input) {
    const file = input.files && input.files[0];
    if (!file) return;
    if (file.size > MAX_UPLOAD) {
      this.showError(`${file.name} is over 1 MiB; upload a smaller CSV (x1, x2, target).`);
      input.value = "";
      return;
    }
    file.text().then((text) => {
      this.send({ type: "upload", name: file.name, text });
      this.settings.dataset = "upload";
      this.showSettings();
      this.writeHash();
      input.value = "";
    });
  }

  download(msg) {
    const bytes = decodeB64(msg.base64 || "");
    const blob = new Blob([bytes], { type: msg.mime || "application/octet-stream" });
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = msg.filename || `sinapsi-${msg.what || "export"}`;
    document.body.appendChild(a);
    a.click();
    setTimeout(() => {
      URL.revokeObjectURL(a.href);
      a.remove();
    }, 1000);
  }

  // ---- messages to the user -----------------------------------------------------------
  showError(text) {
    const e = $("#error");
    e.textContent = text;
    e.title = text;
    e.hidden = false;
    clearTimeout(this.errorTimer);
    this.errorTimer = setTimeout(() => {
      e.hidden = true;
      e.textContent = "";
    }, 6000);
  }

  status(text) {
    $("#status").textContent = text;
  }
}

window.playground = new Playground();
