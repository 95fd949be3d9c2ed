// dash_test.js BIN_DIR SHOT_DIR CHROMIUM: the dashboard in a real browser. Starts a 3-node
// cluster (each with --http), opens node 1's dashboard in headless chromium, registers
// names on the other nodes with rosterctl and checks that they appear without a reload in
// the names browser and the event stream, that the stream's pattern filter and the prefix
// search filter, that the pid view shows a remote pid's name, and that a node stopped
// turns down (table and stream); saves screenshots for
// docs/DASHBOARD.md. Every process it starts is stopped by pid, pass or fail.
"use strict";
const {spawn} = require("child_process");
const fs = require("fs");
const net = require("net");
const os = require("os");
const path = require("path");
const {chromium} = require("playwright-core");

const [bin, shots, chromiumPath] = process.argv.slice(2);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "roster-dash-"));
const procs = []; // {name, child}
let passed = 0, failed = 0;

function check(ok, what) {
  if (ok) { passed++; console.log("ok   " + what); } else { failed++; console.log("FAIL " + what); }
}

function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer();
    s.on("error", rej);
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => res(p)); });
  });
}

// until polls fn (async, truthy when done) every 50 ms up to ms; returns its last value.
async function until(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    let v;
    try { v = await fn(); } catch (e) { v = null; }
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out: " + what);
    await new Promise(r => setTimeout(r, 50));
  }
}

function start(name, args) {
  const log = fs.openSync(path.join(tmp, name + ".log"), "w");
  const child = spawn(args[0], args.slice(1), {stdio: ["pipe", "pipe", log]});
  procs.push({name, child});
  let out = "";
  child.stdout.on("data", d => { out += d; });
  child.out = () => out;
  return child;
}

async function stopAll() {
  for (const {name, child} of procs.reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const gone = new Promise(r => child.once("exit", code => r(code)));
    process.kill(child.pid, "SIGTERM");
    const t = setTimeout(() => { try { process.kill(child.pid, "SIGKILL"); } catch (e) {} }, 5000);
    const code = await gone;
    clearTimeout(t);
    console.log(`stopped ${name} (pid ${child.pid}, exit ${code})`);
    // A node must stop cleanly on SIGTERM (under the sanitizers: no leak, no error).
    if (name.startsWith("dash")) check(code === 0, `${name} exited 0 after SIGTERM`);
  }
}

async function state(port) {
  const r = await fetch(`http://127.0.0.1:${port}/api/state`);
  return r.ok ? r.json() : null;
}

// hold runs `rosterctl register|join KEY` on node i, which holds the entry until its stdin
// closes; resolves with its pid once it printed it.
async function hold(sock, verb, key) {
  const c = start(`${verb}-${key}`, [path.join(bin, "rosterctl"), "--socket", sock, verb, key]);
  const pid = await until(() => (c.out().match(/^[0-9a-f]{16}\.\d+/) || [])[0], 10000,
                          `rosterctl ${verb} ${key} prints its pid`);
  return pid;
}

async function main() {
  fs.mkdirSync(shots, {recursive: true});
  const cookie = path.join(tmp, "cookie");
  fs.writeFileSync(cookie, "dashboard-test-cookie-0123456789abcdef\n", {mode: 0o600});
  const nodes = [];
  for (let i = 1; i <= 3; i++)
    nodes.push({name: "dash" + i, peer: await freePort(), http: await freePort(),
                sock: path.join(tmp, `n${i}.sock`)});
  for (const [i, n] of nodes.entries()) {
    const args = [path.join(bin, "rosterd"), "--name", n.name, "--listen", `127.0.0.1:${n.peer}`,
                  "--socket", n.sock, "--cookie-file", cookie, "--http", `127.0.0.1:${n.http}`];
    if (i) args.push("--join", `127.0.0.1:${nodes[0].peer}`);
    start(n.name, args);
  }
  const url = `http://127.0.0.1:${nodes[0].http}/`;
  await until(async () => { const s = await state(nodes[0].http);
                            return s && s.peers.filter(p => p.state === "up").length === 2; },
              15000, "node 1 sees both peers up");
  check(true, "3-node cluster up");

  const browser = await chromium.launch({
    executablePath: chromiumPath, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync"]});
  try {
    const page = await browser.newPage({viewport: {width: 1360, height: 900}});
    const errors = [];
    page.on("pageerror", e => errors.push(String(e)));
    const external = [];
    page.on("request", r => { if (!r.url().startsWith(`http://127.0.0.1:${nodes[0].http}/`)) external.push(r.url()); });
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById("stream-status").textContent.startsWith("live"),
                               null, {timeout: 10000});
    check(true, "page loaded and the event stream is live");
    await page.waitForFunction(() => { const t = document.querySelector("#nodes tbody").textContent;
                                       return t.includes("dash2") && t.includes("dash3") && !t.includes("down"); },
                               null, {timeout: 10000});
    check(true, "nodes table lists dash2 and dash3 up");
    await page.evaluate(() => { window.__noReload = 1; });

    const pid = await hold(nodes[1].sock, "register", "svc.web");
    await page.waitForFunction(() => document.querySelector("#names tbody").textContent.includes("svc.web"),
                               null, {timeout: 10000});
    check(true, "svc.web registered on dash2 appears in dash1's names browser");
    await page.waitForFunction(() => /registered\s+default\/svc\.web/.test(document.getElementById("events").textContent),
                               null, {timeout: 10000});
    check(true, "and in its event stream");
    check(await page.evaluate(() => window.__noReload === 1), "without a reload");
    await hold(nodes[2].sock, "join", "workers");
    await hold(nodes[0].sock, "register", "api.gateway");
    await hold(nodes[0].sock, "join", "workers");
    await hold(nodes[2].sock, "register", "db.primary");
    await page.waitForFunction(() => document.querySelector("#groups tbody").textContent.includes("workers"),
                               null, {timeout: 10000});
    check(true, "group workers joined on dash3 appears in the groups browser");
    await page.waitForFunction(() => document.querySelector("#scopes tbody").textContent.includes("default"),
                               null, {timeout: 5000});
    // Rates need two state polls: wait for the charts to have a few points.
    await page.waitForFunction(() => series.requests.length >= 3, null, {timeout: 10000});
    await page.screenshot({path: path.join(shots, "dashboard.png"), fullPage: true});

    // The pid view: click svc.web's pid (a pid of dash2, seen from dash1).
    await page.click(`#names a.pid:text("${pid}")`);
    await page.waitForFunction(p => { const t = document.getElementById("pid-view").textContent;
                                      return t.includes(p) && t.includes("remote") && t.includes("svc.web"); },
                               pid, {timeout: 5000});
    check(true, "pid view shows the remote pid's name");

    // A group's members: workers has one on dash1 and one on dash3.
    await page.click(`#groups a.pid:text("workers")`);
    await page.waitForFunction(() => { const t = document.getElementById("pid-view").textContent;
                                       return t.includes("workers: 2 members") && t.includes("dash1") && t.includes("dash3"); },
                               null, {timeout: 5000});
    check(true, "group view lists workers' two members and their nodes");

    // Prefix search.
    await page.fill("#prefix", "svc");
    await page.waitForFunction(() => { const t = document.querySelector("#names tbody").textContent;
                                       return t.includes("svc.web") && !t.includes("db.primary"); },
                               null, {timeout: 5000});
    check(true, "prefix search 'svc' keeps svc.web and hides db.primary");

    // Stream filter: only svc.* events from now on.
    await page.fill("#pattern", "svc.*");
    await page.waitForFunction(() => document.getElementById("stream-status").textContent.includes("svc.*"),
                               null, {timeout: 10000});
    await hold(nodes[2].sock, "register", "other.thing");
    await hold(nodes[1].sock, "register", "svc.api");
    await page.waitForFunction(() => document.getElementById("events").textContent.includes("svc.api"),
                               null, {timeout: 10000});
    const evText = await page.textContent("#events");
    check(!evText.includes("other.thing"), "pattern svc.* filters other.thing out of the stream");
    await page.waitForFunction(() => document.querySelector("#names tbody").textContent.includes("svc.api"),
                               null, {timeout: 10000});
    await page.screenshot({path: path.join(shots, "dashboard-filtered.png"), fullPage: true});
    // A node leaves: its state turns down in the nodes table and node_down is in the stream.
    await page.fill("#pattern", "");
    await page.waitForFunction(() => document.getElementById("stream-status").textContent === "live",
                               null, {timeout: 10000});
    const n3 = procs.find(p => p.name === "dash3").child;
    const n3gone = new Promise(r => n3.once("exit", code => r(code)));
    process.kill(n3.pid, "SIGTERM");
    check(await n3gone === 0, "dash3 exited 0 after SIGTERM");
    await page.waitForFunction(() => /dash3\s*down/.test(document.querySelector("#nodes tbody").textContent),
                               null, {timeout: 15000});
    check(true, "dash3 stopped: the nodes table shows it down");
    await page.waitForFunction(() => /node_down\s+default\/dash3/.test(document.getElementById("events").textContent),
                               null, {timeout: 15000});
    check(true, "and the stream shows node_down");
    check(errors.length === 0, "no script errors" + (errors.length ? ": " + errors.join("; ") : ""));
    check(external.length === 0, "no request leaves the node" + (external.length ? ": " + external.join(" ") : ""));
  } finally {
    await browser.close();
  }
}

main().catch(e => { failed++; console.log("FAIL " + e.message); })
  .then(stopAll)
  .then(() => {
    for (const n of fs.readdirSync(tmp).filter(f => f.endsWith(".log") && f.startsWith("dash")))
      if (failed) console.log(`--- ${n}\n` + fs.readFileSync(path.join(tmp, n), "utf8").split("\n").slice(-15).join("\n"));
    fs.rmSync(tmp, {recursive: true, force: true});
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  });
