// Opens each report.html in Debian's headless Chromium (/usr/bin/chromium, no
// browser download) through playwright-core, and fails unless:
//   * the page loads with no console error, no page error and no dialog;
//   * the browser makes NO request other than the report's own file:// URL
//     (every other request is recorded and aborted);
//   * the filter script ran, choosing FAIL in the status filter hides every
//     passing row and control, and Clear brings them back;
//   * every link resolves: in-page anchors to an element, file links to a file
//     or folder that exists (evidence and control definitions);
//   * hostile text (the sandbox OU's `<script>alert('ou')`, and whatever the
//     report's folder lists in payloads.json) is shown literally, the page has
//     exactly one <script> element and no inline event-handler attribute.
// Screenshots (full page, coverage matrix, filtered view, each section) and a
// PDF print go to ARTIFACTS/<name>/. They are artifacts for a person to look
// at, not assertions: some Chromium builds on some machines refuse
// Page.captureScreenshot ("Unable to capture screenshot") although the page
// rendered. A refused capture is retried, then tried once more in a second
// browser with the legacy screenshot path and software compositing; if that
// fails too, the check prints a WARN line with the browser's log and writes
// ARTIFACTS/<name>/CAPTURE-FAILED.txt, and the report's checks still decide.
//
// A NAME starting with "period" is a Type II period page (`auditpack period`'s
// period.html), checked by inspectPeriod: no script at all, one visible SVG
// timeline per control with its runs drawn, in-page links that resolve,
// hostile text literal, the timelines still shown in print, no request.
//
// Usage: node check.mjs ARTIFACTS NAME=REPORT.html [NAME=REPORT.html ...]

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { chromium } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
// Flags that keep Chromium off the network on its own account (updates, sync,
// safe browsing, QUIC probes) and make it run as root in a container.
const FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];
// In every report made from the sample organization (seed_org.py names this OU).
const ALWAYS_LITERAL = ["<script>alert('ou')"];
// Taller pages are screenshotted section by section only (Chromium's full-page
// capture degrades past this height).
const FULL_PAGE_MAX_PX = 30000;
// Taller pages (a 1,000-account report) are not printed to PDF here.
const PDF_MAX_PX = 150000;
// Element screenshots scroll the page: keep the sticky filter bar out of them.
const UNSTICK = ".filters { position: static !important; }";

const [artifacts, ...specs] = process.argv.slice(2);
if (!artifacts || specs.length === 0) {
  console.error("usage: node check.mjs ARTIFACTS NAME=REPORT.html [NAME=REPORT.html ...]");
  process.exit(2);
}

// How the browser is started for the screenshots. The first mode is the one
// the checks run in; the second avoids the two capture paths known to refuse
// screenshots on some machines (Playwright's CDPScreenshotNewSurface feature
// and GPU-process compositing).
const CAPTURE_MODES = [
  { name: "default", flags: [], env: {} },
  { name: "legacy-software", flags: ["--disable-gpu-compositing"], env: { PLAYWRIGHT_LEGACY_SCREENSHOT: "1" } },
];

// Opens the report in a fresh profile with every request but the report's own
// URL recorded and aborted. Returns the page, the requests seen, the browser's
// log lines and a close function.
async function openReport(url, mode, fail) {
  // Chromium's own log (stderr) goes to a file, read when a capture fails.
  const scratch = mkdtempSync(join(tmpdir(), "auditpack-chromium-"));
  const profile = join(scratch, "profile");
  const logFile = join(scratch, "chromium.log");
  // Next to the artifacts, not in the temporary folder, which may be noexec.
  const launcher = resolve(artifacts, "chromium-with-log.sh");
  writeFileSync(launcher, `#!/bin/sh\nexec "$AUDITPACK_CHROMIUM" "$@" 2>>"$AUDITPACK_CHROMIUM_LOG"\n`, { mode: 0o755 });
  const saved = {};
  const env = { ...mode.env, AUDITPACK_CHROMIUM: CHROMIUM, AUDITPACK_CHROMIUM_LOG: logFile };
  for (const [key, value] of Object.entries(env)) {
    saved[key] = process.env[key];
    process.env[key] = value;
  }
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: launcher,
      headless: true,
      args: [...FLAGS, "--enable-logging=stderr", ...mode.flags],
      viewport: { width: 1440, height: 900 },
      offline: true,
    });
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
  const requests = [];
  await context.route("**/*", (route) => {
    const requested = route.request().url();
    if (requested === url) {
      return route.continue();
    }
    requests.push(requested);
    return route.abort();
  });
  const page = context.pages()[0] || (await context.newPage());
  page.on("request", (request) => {
    if (request.url() !== url && !requests.includes(request.url())) {
      requests.push(request.url());
    }
  });
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warning") {
      fail(`console ${msg.type()}: ${msg.text()}`);
    }
  });
  page.on("pageerror", (error) => fail(`page error: ${error.message}`));
  page.on("dialog", async (dialog) => {
    fail(`a dialog opened (injected script ran?): ${dialog.type()} ${dialog.message()}`);
    await dialog.dismiss();
  });
  const started = Date.now();
  await page.goto(url, { waitUntil: "load", timeout: 120000 });
  const loadMs = Date.now() - started;
  page.setDefaultTimeout(10000);
  const browserLog = () =>
    existsSync(logFile) ? readFileSync(logFile, "utf8").split("\n").filter(Boolean) : [];
  const close = async () => {
    await context.close();
    rmSync(scratch, { recursive: true, force: true });
  };
  return { page, requests, browserLog, loadMs, close };
}

async function checkReport(name, reportPath) {
  const kind = name.startsWith("period") ? PERIOD_PAGE : RUN_REPORT;
  const problems = [];
  const warnings = [];
  const fail = (message) => problems.push(message);
  const out = join(artifacts, name);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const url = pathToFileURL(resolve(reportPath)).href;
  // The sample organization's hostile OU is in every run report; a period page
  // lists bundles, not OUs: its hostile strings come from payloads.json.
  const literals = kind === RUN_REPORT ? [...ALWAYS_LITERAL] : [];
  const payloads = join(dirname(reportPath), "payloads.json");
  if (existsSync(payloads)) {
    literals.push(...JSON.parse(readFileSync(payloads, "utf8")));
  }

  const captureErrors = [];
  let counts = "";
  let loadMs = 0;
  let captured = null;
  for (const [index, mode] of CAPTURE_MODES.entries()) {
    const session = await openReport(url, mode, fail);
    try {
      if (index === 0) {
        loadMs = session.loadMs;
        try {
          counts = await kind.inspect(session.page, literals, fail);
        } catch (error) {
          fail(`check stopped: ${error.message.split("\n")[0]}`);
        }
      }
      try {
        await kind.capture(session.page, out);
        captured = mode.name;
      } catch (error) {
        captureErrors.push({ mode: mode.name, error: error.message.split("\n")[0], log: session.browserLog() });
      }
    } finally {
      for (const request of new Set(session.requests)) fail(`network request (${mode.name} browser): ${request}`);
      await session.close();
    }
    if (captured) break;
  }
  if (!captured) {
    warnings.push(...captureErrors.map((c) => `no screenshots or PDF (${c.mode} browser): ${c.error}`));
    const text = captureErrors
      .map((c) => `== ${c.mode} browser: ${c.error}\n-- the browser's log, last lines:\n${c.log.join("\n")}\n`)
      .join("\n");
    writeFileSync(join(out, "CAPTURE-FAILED.txt"), text);
    warnings.push(`the browser's log is in ${join(out, "CAPTURE-FAILED.txt")}; its last lines:`);
    const telling = captureErrors.at(-1).log.filter((line) => !/dbus|Fontconfig/.test(line));
    warnings.push(...telling.slice(-12).map((line) => `  | ${line}`));
  } else if (captured !== CAPTURE_MODES[0].name) {
    warnings.push(`screenshots taken by the ${captured} browser; the default one said: ${captureErrors[0].error}`);
  }
  const summary = `${name}: ${reportPath} — loaded in ${loadMs} ms${counts}`;
  return { summary, problems, warnings };
}

// Everything checked on the loaded page; returns a summary of what was seen.
async function inspect(page, literals, fail) {
  // The filter script ran.
  if (!(await page.evaluate(() => document.body.classList.contains("js")))) {
    fail("the report's script did not run (body has no 'js' class)");
  }

  // Hostile text is text: literally present, never markup.
  const dom = await page.evaluate(() => {
    const handlers = [];
    for (const el of document.querySelectorAll("*")) {
      for (const attr of el.attributes) {
        if (attr.name.toLowerCase().startsWith("on")) {
          handlers.push(`<${el.tagName.toLowerCase()} ${attr.name}>`);
        }
      }
    }
    return {
      text: document.body.textContent,
      scripts: document.scripts.length,
      handlers,
      other: document.querySelectorAll("img, iframe, object, embed, link, svg image").length,
    };
  });
  for (const literal of literals) {
    if (!dom.text.includes(literal)) {
      fail(`hostile text not shown literally: ${JSON.stringify(literal)}`);
    }
  }
  if (dom.scripts !== 1) fail(`expected the report's one <script>, found ${dom.scripts}`);
  if (dom.handlers.length) fail(`inline event handlers in the DOM: ${dom.handlers.slice(0, 5)}`);
  if (dom.other) fail(`${dom.other} element(s) that load content (img, iframe, …)`);
  // Hover over each account name and tag: an injected onmouseover would fire here.
  for (const el of (await page.locator("#population .tag, #population td:nth-child(2)").all()).slice(0, 40)) {
    await el.hover({ timeout: 2000 }).catch(() => {});
  }

  // The IPE section (issue #19): one visible sheet per control, each with its
  // population reconciliation and exact tests.
  const ipe = await page.evaluate(() => {
    const shown = (el) => el && el.getClientRects().length > 0;
    const sheets = Array.from(document.querySelectorAll("#ipe article.ipe"));
    return {
      section: shown(document.getElementById("ipe")),
      sheets: sheets.length,
      visible: sheets.filter(shown).length,
      controls: document.querySelectorAll("article.control").length,
      reconciled: sheets.filter((s) => s.textContent.includes("AWS Organizations listed")).length,
    };
  });
  if (!ipe.section) fail("the IPE section (#ipe) is not visible");
  if (ipe.sheets !== ipe.controls || ipe.visible !== ipe.sheets) {
    fail(`IPE: ${ipe.visible} visible of ${ipe.sheets} sheets for ${ipe.controls} controls`);
  }
  if (ipe.reconciled !== ipe.sheets) fail(`IPE: ${ipe.reconciled} of ${ipe.sheets} sheets reconcile the accounts`);

  // The criteria coverage (issue #19): every Common Criterion listed, each
  // visible, the gaps marked; the attachments table, when the run has any.
  const criteria = await page.evaluate(() => {
    const shown = (el) => el && el.getClientRects().length > 0;
    const rows = Array.from(document.querySelectorAll("table.criteria tbody tr"));
    const ids = rows.map((r) => r.getAttribute("data-tsc"));
    return {
      common: ids.filter((id) => id.startsWith("CC")).length,
      visible: rows.filter(shown).length,
      rows: rows.length,
      gaps: rows.filter((r) => r.classList.contains("gap")).length,
      attachments: document.querySelectorAll("table.attachments tbody tr").length,
      attachmentsShown: shown(document.querySelector("table.attachments")),
    };
  });
  if (criteria.common < 33) fail(`criteria coverage lists ${criteria.common} Common Criteria, expected CC1.1 to CC9.2 (33)`);
  if (criteria.visible !== criteria.rows) fail(`criteria coverage: ${criteria.visible} of ${criteria.rows} rows visible`);
  if (criteria.attachments > 0 && !criteria.attachmentsShown) fail("the attachments table is not visible");

  // Every link resolves.
  const links = await page.evaluate(() =>
    Array.from(document.querySelectorAll("a[href]"), (a) => ({
      raw: a.getAttribute("href"),
      href: a.href,
    })),
  );
  const anchors = new Set();
  const broken = [];
  let files = 0;
  for (const link of links) {
    if (link.raw.startsWith("#")) {
      anchors.add(link.raw.slice(1));
    } else if (link.href.startsWith("file:")) {
      files += 1;
      const target = fileURLToPath(link.href.split("#")[0]);
      if (!existsSync(target)) broken.push(`${link.raw} (${target} does not exist)`);
    } else {
      fail(`link leaves the bundle: ${link.raw}`);
    }
  }
  for (const link of broken.slice(0, 10)) fail(`broken link ${link}`);
  if (broken.length > 10) fail(`… and ${broken.length - 10} more broken links`);
  const missing = await page.evaluate(
    (ids) => ids.filter((id) => !document.getElementById(id)),
    [...anchors],
  );
  for (const id of missing) fail(`in-page link to #${id}, which does not exist`);
  if (files === 0) fail("no evidence or control link found");

  // The status filter changes what is visible; Clear restores it.
  const visible = () =>
    page.evaluate(() => {
      const shown = (el) => el.getClientRects().length > 0;
      const rows = Array.from(document.querySelectorAll("#controls tr[data-status]")).filter(shown);
      return {
        controls: Array.from(document.querySelectorAll("article.control")).filter(shown).map((c) => c.id),
        rows: rows.length,
        statuses: [...new Set(rows.map((r) => r.getAttribute("data-status")))],
      };
    });
  const before = await visible();
  await page.locator("#f-status").selectOption("fail");
  const filtered = await visible();
  if (filtered.rows === 0) fail("the FAIL filter shows no result row (the samples have failures)");
  if (filtered.statuses.some((s) => s !== "fail")) {
    fail(`the FAIL filter still shows rows with status ${filtered.statuses}`);
  }
  if (filtered.rows >= before.rows || filtered.controls.length >= before.controls.length) {
    fail(`the FAIL filter changed nothing: ${before.rows} → ${filtered.rows} rows, ` +
      `${before.controls.length} → ${filtered.controls.length} controls`);
  }
  await page.locator("#f-reset").click();
  await page.waitForTimeout(50);
  const restored = await visible();
  if (restored.rows !== before.rows || restored.controls.length !== before.controls.length) {
    fail(`Clear did not restore the page: ${restored.rows} rows, expected ${before.rows}`);
  }

  return `, ${before.controls.length} controls, ${before.rows} finding rows (${filtered.rows} FAIL), ` +
    `${files} file links, ${criteria.rows} criteria (${criteria.gaps} not evidenced), ` +
    `${criteria.attachments} attachments, ${literals.length} hostile strings shown as text`;
}

// The artifacts a person looks at: an A4 landscape PDF as an auditor would
// save it, the full page, each section, the coverage matrix, one failing
// control and the FAIL-filtered view. Throws when Chromium refuses a capture.
async function captureArtifacts(page, out) {
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  if (height <= PDF_MAX_PX) {
    // page.pdf has no timeout of its own (screenshots have the page's 10 s).
    await bounded(
      page.pdf({ path: join(out, "report.pdf"), format: "A4", landscape: true, printBackground: true }),
      60000,
      "page.pdf",
    );
  }
  if (height <= FULL_PAGE_MAX_PX) {
    await shoot(() => page.screenshot({ path: join(out, "full.png"), fullPage: true }));
  }
  for (const section of ["summary", "coverage", "controls", "population", "exceptions", "evidence", "ipe"]) {
    await page.evaluate((id) => document.getElementById(id).scrollIntoView(), section);
    await shoot(() => page.screenshot({ path: join(out, `section-${section}.png`) }));
  }
  // The coverage matrix (the criteria table reuses its wrapper class: the first is the matrix).
  await shoot(() => page.locator(".matrix-wrap").first().screenshot({ path: join(out, "matrix.png"), style: UNSTICK }));
  const failing = page.locator("article.control.fail").first();
  if ((await failing.count()) > 0) {
    await shoot(() => failing.screenshot({ path: join(out, "control-fail.png"), style: UNSTICK }));
  }
  await page.locator("#f-status").selectOption("fail");
  await page.evaluate(() => {
    const shown = Array.from(document.querySelectorAll("table.findings")).find((t) => t.getClientRects().length > 0);
    (shown || document.getElementById("controls")).scrollIntoView();
    window.scrollBy(0, -120);
  });
  await shoot(() => page.screenshot({ path: join(out, "filtered-fail.png") }));
  await page.locator("#f-reset").click();
}

// The Type II period page: static (no script), a timeline per control.
async function inspectPeriod(page, literals, fail) {
  const dom = await page.evaluate(() => {
    const shown = (el) => el.getClientRects().length > 0 && el.getBoundingClientRect().width > 300;
    const sections = Array.from(document.querySelectorAll("section.control"));
    const handlers = [];
    for (const el of document.querySelectorAll("*")) {
      for (const attr of el.attributes) {
        if (attr.name.toLowerCase().startsWith("on")) handlers.push(`<${el.tagName.toLowerCase()} ${attr.name}>`);
      }
    }
    return {
      text: document.body.textContent,
      scripts: document.scripts.length,
      handlers,
      other: document.querySelectorAll("img, iframe, object, embed, link, svg image").length,
      controls: sections.length,
      timelines: sections.filter((s) => { const svg = s.querySelector("svg.timeline"); return svg && shown(svg); }).length,
      drawn: sections.filter((s) => s.querySelectorAll("svg.timeline line.run").length > 0).length,
      runs: document.querySelectorAll("svg.timeline line.run").length,
      anchors: Array.from(document.querySelectorAll("a[href]"), (a) => a.getAttribute("href")),
    };
  });
  for (const literal of literals) {
    if (!dom.text.includes(literal)) fail(`hostile text not shown literally: ${JSON.stringify(literal)}`);
  }
  if (dom.scripts !== 0) fail(`the period page must work without script; found ${dom.scripts} <script>`);
  if (dom.handlers.length) fail(`inline event handlers in the DOM: ${dom.handlers.slice(0, 5)}`);
  if (dom.other) fail(`${dom.other} element(s) that load content (img, iframe, …)`);
  if (dom.controls === 0) fail("no control section");
  if (dom.timelines !== dom.controls) fail(`${dom.timelines} visible timelines for ${dom.controls} controls`);
  if (dom.drawn !== dom.controls) fail(`${dom.controls - dom.drawn} timelines without a run drawn`);
  const external = dom.anchors.filter((href) => !href.startsWith("#"));
  for (const href of external) fail(`link leaves the page: ${href}`);
  const missing = await page.evaluate(
    (ids) => ids.filter((id) => !document.getElementById(id)),
    dom.anchors.filter((href) => href.startsWith("#")).map((href) => href.slice(1)),
  );
  for (const id of missing) fail(`in-page link to #${id}, which does not exist`);
  // Printed, the timelines are still there.
  await page.emulateMedia({ media: "print" });
  const printed = await page.evaluate(() =>
    Array.from(document.querySelectorAll("svg.timeline")).filter((svg) => svg.getBoundingClientRect().width > 300).length,
  );
  await page.emulateMedia({ media: "screen" });
  if (printed !== dom.controls) fail(`printed: ${printed} visible timelines for ${dom.controls} controls`);
  return `, ${dom.controls} controls with timelines (${dom.runs} run marks), ${dom.anchors.length} in-page links, ` +
    `${literals.length} hostile strings shown as text, no script`;
}

// The period page as an auditor keeps it: an A4 PDF, the full page, one timeline.
async function capturePeriod(page, out) {
  await bounded(
    page.pdf({ path: join(out, "period.pdf"), format: "A4", landscape: true, printBackground: true }),
    60000,
    "page.pdf",
  );
  const height = await page.evaluate(() => document.documentElement.scrollHeight);
  if (height <= FULL_PAGE_MAX_PX) {
    await shoot(() => page.screenshot({ path: join(out, "full.png"), fullPage: true }));
  }
  await shoot(() => page.locator("section.control").first().screenshot({ path: join(out, "control.png") }));
}

const RUN_REPORT = { inspect, capture: captureArtifacts };
const PERIOD_PAGE = { inspect: inspectPeriod, capture: capturePeriod };

// Rejects when `promise` has not settled after `ms`: a hung capture becomes a
// capture error (and the fallback browser), never a CI job that runs out.
function bounded(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// A refused capture is often a frame not yet produced: wait a little and try
// again, twice, before giving up.
async function shoot(capture) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await capture();
    } catch (error) {
      if (attempt === 3 || !/Unable to capture screenshot/.test(error.message)) throw error;
      await new Promise((settle) => setTimeout(settle, 250 * attempt));
    }
  }
}

// Whatever hangs, the check ends with a message long before CI's time limit.
setTimeout(() => {
  console.error("FAIL the browser check did not finish in 15 minutes (a hung browser?)");
  process.exit(1);
}, 15 * 60 * 1000).unref();

let failed = false;
for (const spec of specs) {
  const [name, reportPath] = spec.split(/=(.*)/s);
  if (!reportPath || !existsSync(reportPath)) {
    console.error(`FAIL ${name}: no report at ${reportPath}`);
    failed = true;
    continue;
  }
  const { summary, problems, warnings } = await checkReport(name, reportPath);
  for (const warning of warnings) console.error(`WARN ${name}: ${warning}`);
  if (problems.length) {
    failed = true;
    console.error(`FAIL ${summary}`);
    for (const problem of problems) console.error(`  - ${problem}`);
  } else {
    console.log(`ok   ${summary}`);
  }
}
console.log(`screenshots and PDFs under ${artifacts}/`);
process.exit(failed ? 1 : 0);
