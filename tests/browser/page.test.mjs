// End-to-end test of the web page: the real server, a real Chromium.
// CDSPRED_BIN points at the cdspred binary (default: ../../target/debug/cdspred).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const bin = process.env.CDSPRED_BIN || path.join(process.env.CARGO_TARGET_DIR || path.join(repo, "target"), "debug/cdspred");
const example = path.join(repo, "examples/reads.fasta");
let server, base, browser;

before(async () => {
  const data = mkdtempSync(path.join(tmpdir(), "cdspred-browser-"));
  server = spawn(bin, ["serve", "--addr", "127.0.0.1:0", "--data-dir", data], { stdio: ["ignore", "pipe", "ignore"] });
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: server.stdout }).once("line", resolve);
    server.once("exit", (c) => reject(new Error("server exited " + c)));
  });
  base = line.trim().replace("listening on ", "");
  for (let i = 0; i < 100; i++) {
    try { if ((await fetch(base + "/health/ready")).ok) break; } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

test("upload, table, sorting, paging and download", async () => {
  const page = await browser.newPage({ acceptDownloads: true });
  const external = [];
  page.on("request", (r) => { if (!r.url().startsWith(base)) external.push(r.url()); });
  await page.goto(base + "/");
  await page.waitForFunction(() => document.getElementById("health").textContent.startsWith("ready"));
  await page.waitForFunction(() => document.querySelectorAll("#table option").length > 20);
  await page.setInputFiles("#file", example);
  await page.click("#run");
  await page.waitForSelector("#results:not(.hidden)");
  const summary = await page.textContent("#summary");
  assert.match(summary, /400\s*reads/);
  assert.equal(await page.locator("#table-out tbody tr").count(), 50);
  assert.equal(await page.textContent("#page"), "page 1 of 8");
  assert.equal(await page.locator("#hist svg rect").count(), 20);
  // Sort by coding probability, descending (second click).
  await page.click('th button[data-col="coding_prob"]');
  await page.click('th button[data-col="coding_prob"]');
  const probs = await page.$$eval("#table-out tbody td.coding_prob", (tds) => tds.map((t) => parseFloat(t.textContent)));
  assert.deepEqual(probs, [...probs].sort((a, b) => b - a));
  assert.ok(probs[0] > 0.9);
  // A coding row shows its protein.
  assert.ok((await page.textContent("#table-out tbody tr:first-child td.protein")).length > 10);
  await page.click("#next");
  assert.equal(await page.textContent("#page"), "page 2 of 8");
  const [dl] = await Promise.all([page.waitForEvent("download"), page.click("#dl-tsv")]);
  const tsv = readFileSync(await dl.path(), "utf8").trim().split("\n");
  assert.equal(tsv.length, 401);
  assert.equal(tsv[0], "id\tlength\tcoding_prob\tsense_prob\tstrand\tframe\tcall\tprotein");
  const [dl2] = await Promise.all([page.waitForEvent("download"), page.click("#dl-csv")]);
  assert.equal(readFileSync(await dl2.path(), "utf8").trim().split("\n")[0], "id,length,coding_prob,sense_prob,strand,frame,call,protein");
  // The model card is shown, with every held-out genome's figures beside the mean.
  assert.match(await page.textContent("#card"), /default/);
  const card = (await (await fetch(base + "/v1/info")).json()).model_card;
  const groups = card.metrics.read_sets.groups;
  const genomes = [...new Set(groups.map((g) => g.genome))];
  assert.ok(genomes.length >= 3, genomes.join());
  for (const g of genomes) {
    const cells = await page.$$eval('#card-genomes tr[data-genome="' + g + '"] td.gene', (tds) => tds.map((t) => t.textContent));
    const want = ["60", "100", "150", "300"].map((l) => groups.find((x) => x.genome === g && String(x.length) === l).gene.mcc.toFixed(3));
    assert.deepEqual(cells, want, g);
  }
  assert.equal(await page.locator('#card-genomes tr[data-genome="mean"]').count(), 1);
  // Frames are counted from the numbers the API returns.
  assert.match(summary, /frame 0\/1\/2/);
  assert.doesNotMatch(await page.textContent("#summary"), /0 \/ 0 \/ 0/);
  assert.deepEqual(external, [], "the page loads nothing from outside the server");
  await page.screenshot({ path: path.join(tmpdir(), "cdspred-page.png"), fullPage: true });
});

test("keyboard only: paste, choose a code, submit with Enter; errors are shown", async () => {
  const page = await browser.newPage();
  await page.goto(base + "/");
  await page.waitForFunction(() => document.querySelectorAll("#table option").length > 20);
  await page.focus("#seqs");
  await page.keyboard.insertText(">bad\nACGTJ\n");
  await page.keyboard.press("Tab"); // file input
  await page.keyboard.press("Tab"); // genetic code
  await page.selectOption("#table", "4");
  await page.focus("#threshold");
  await page.keyboard.press("Enter"); // submits the form
  await page.waitForFunction(() => document.getElementById("error").textContent.length > 0);
  const err = await page.textContent("#error");
  assert.match(err, /Error 400/);
  assert.match(err, /record 1 \(bad\)/);
  await page.fill("#seqs", ">ok\nATGGCTGCTAAAGAAGCTCTGGCTAAAGAAATTGCTGCTCTGGAAAAAGCTGGCGCTAAAGTTATTGAAGCTAAA\n");
  await page.focus("#run");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#results:not(.hidden)");
  assert.equal(await page.textContent("#error"), "");
  assert.equal(await page.locator("#table-out tbody tr").count(), 1);
});
