// The page at /watch: one recipe's training, evaluations, pipeline counts, dead letters and generations, read from
// eval-service (its own results, and /watch/api for what the other services hold) every few seconds.
'use strict';

const REFRESH_MS = 5000;
const charts = {};
let current = null;

async function json(url) {
  try {
    const response = await fetch(url, { headers: { Accept: 'application/json' } });
    if (response.status === 404) return null;
    if (!response.ok) return { unavailable: url + ' answered ' + response.status };
    return await response.json();
  } catch (e) {
    return { unavailable: url + ': ' + e.message };
  }
}

function cell(row, text, className) {
  const td = document.createElement('td');
  td.textContent = text === null || text === undefined ? '' : String(text);
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

function number(value, digits) {
  return value === null || value === undefined || Number.isNaN(value) ? '' : Number(value).toFixed(digits);
}

function rows(tableId, items, fill) {
  const body = document.querySelector('#' + tableId + ' tbody');
  body.replaceChildren();
  for (const item of items) {
    const row = document.createElement('tr');
    fill(row, item);
    body.appendChild(row);
  }
}

// A line chart in `elementId`, created once and given new data after; data-points says how many x values it holds.
// The x axis counts steps, or, with time set, is the wall clock (x values in seconds since the epoch).
function plot(elementId, title, seriesLabels, data, time) {
  const element = document.getElementById(elementId);
  element.dataset.points = String(data[0].length);
  if (data[0].length === 0) return;
  const colors = ['#2563eb', '#9ca3af', '#16a34a'];
  if (!charts[elementId]) {
    const series = [{ label: time ? 'time' : 'step' }].concat(seriesLabels.map((label, i) => ({
      label, stroke: colors[i % colors.length], width: 2, dash: label.startsWith('base') ? [6, 4] : undefined,
      points: { show: data[0].length < 60 }, spanGaps: false,
    })));
    charts[elementId] = new uPlot({
      title, width: Math.max(element.clientWidth, 400), height: 240, series,
      scales: { x: { time: !!time } }, axes: [{ label: time ? undefined : 'step' }, {}],
    }, data, element);
  } else {
    charts[elementId].setData(data);
  }
}

function showTraining(training) {
  const run = document.getElementById('run');
  if (!training) return;
  if (training.steps && training.steps.unavailable) {
    run.textContent = training.steps.unavailable;
    run.className = 'unavailable';
    return;
  }
  if (!training.runs.length) {
    run.textContent = 'No run yet: the trainer has not started this recipe.';
    run.className = 'muted';
    return;
  }
  const newest = training.runs[0];
  run.className = '';
  run.textContent = `${newest.id}: ${newest.state}, step ${newest.step}` +
    (newest.maxSteps ? ` of ${newest.maxSteps}` : '') +
    (newest.lastLoss !== null && newest.lastLoss !== undefined ? `, loss ${number(newest.lastLoss, 4)}` : '') +
    (newest.tokensPerSecond ? `, ${Math.round(newest.tokensPerSecond)} tokens/s` : '') +
    ` on ${newest.device || '?'} ${newest.dtype || ''}` + (newest.failure ? ` (${newest.failure})` : '');
  const steps = Array.isArray(training.steps) ? training.steps : [];
  plot('loss-chart', 'train loss per optimiser step', ['train loss'],
    [steps.map(s => s.step), steps.map(s => s.loss)]);
}

function showEvaluations(evaluations, checkpoints, best) {
  const list = Array.isArray(evaluations) ? evaluations : [];
  // a recipe has a base row per base (a version with another model has its own): tell them apart by identity
  const key = x => x.step + '/' + x.checksum + (x.checksum === 'base' ? '/' + x.baseIdentity : '');
  const status = {};
  for (const c of Array.isArray(checkpoints) ? checkpoints : []) status[key(c)] = c.status;
  rows('evaluations', list.slice().sort((a, b) => a.step - b.step || a.split.localeCompare(b.split)), (row, e) => {
    row.className = e.error ? 'error' : (e.base ? 'base' : '');
    cell(row, e.base ? (e.currentBase ? 'base' : 'base (earlier version)') : e.step);
    cell(row, e.split);
    cell(row, e.examples);
    cell(row, number(e.loss, 4));
    cell(row, number(e.perplexity, 2));
    cell(row, number(e.tokenAccuracy, 3));
    cell(row, number(e.generationMetrics && e.generationMetrics.rouge_l, 3));
    cell(row, number(e.generationMetrics && e.generationMetrics.exact_match, 3));
    cell(row, e.error ? e.error : (status[key(e)] || 'SCORED').toLowerCase());
  });
  const valid = list.filter(e => e.split === 'valid' && !e.error && e.loss !== null);
  const scored = valid.filter(e => !e.base).sort((a, b) => a.step - b.step);
  // each checkpoint beside the base it was scored over, on the same examples where the base has been scored on them
  const bases = valid.filter(e => e.base);
  const baseOf = e => bases.find(b => b.baseIdentity === e.baseIdentity && b.examples === e.examples)
    || bases.find(b => b.baseIdentity === e.baseIdentity);
  const baseline = scored.map(e => (baseOf(e) || { loss: null }).loss);
  const withBase = baseline.some(loss => loss !== null);
  plot('eval-chart', 'validation loss per checkpoint', withBase ? ['validation loss', 'base model'] : ['validation loss'],
    withBase ? [scored.map(e => e.step), scored.map(e => e.loss), baseline]
      : [scored.map(e => e.step), scored.map(e => e.loss)]);
  const line = document.getElementById('best');
  line.textContent = best && best.summary ? 'Best: ' + best.summary : 'No checkpoint scored yet.';
  line.className = best && best.summary ? '' : 'muted';
  return scored.filter(e => e.split === 'valid').pop();
}

function showStages(stages) {
  const items = [];
  if (stages) {
    const f = stages.format, t = stages.tokenize;
    items.push(f && f.unavailable ? { stage: 'format', unavailable: f.unavailable } : {
      stage: 'format', counts: f ? `formatted ${f.formatted}, rejected ${f.rejected}, skipped ${f.skipped}` : '',
      lag: f ? f.lag : '', state: f ? f.state : 'not active',
    });
    items.push(t && t.unavailable ? { stage: 'tokenize', unavailable: t.unavailable } : {
      stage: 'tokenize', counts: t ? `read ${t.read}: train ${t.train}, eval ${t.eval}, rejected ${t.rejected}, ` +
        `duplicates ${t.duplicates}, skipped ${t.skipped}; ${t.batches} batches` : '',
      lag: t ? t.lag : '', state: t ? t.state : 'not active',
    });
  }
  rows('stage-counts', items, (row, s) => {
    cell(row, s.stage);
    if (s.unavailable) {
      cell(row, s.unavailable, 'unavailable').colSpan = 3;
    } else {
      cell(row, s.counts);
      cell(row, s.lag);
      cell(row, s.state);
    }
  });
  rows('dead-letters', stages && stages.deadLetters ? stages.deadLetters : [], (row, d) => {
    cell(row, d.stage);
    cell(row, d.count);
    // the row's reason is a template; the first record's own words are a hover away
    cell(row, d.reason + (d.field ? ` (field ${d.field})` : '')).title = d.firstReason || '';
    cell(row, d.firstSource);
  });
}

// Records waiting for each stage over the recent past, as eval-service sampled them (a gap: the stage did not say).
function showLag(samples) {
  const list = Array.isArray(samples) ? samples : [];
  plot('lag-chart', 'records waiting per stage', ['format (conversations)', 'tokenize (examples)', 'trainer (batches)'],
    [list.map(s => Date.parse(s.at) / 1000), list.map(s => s.format), list.map(s => s.tokenize),
      list.map(s => s.trainer)], true);
}

async function showSamples(evaluation) {
  const of = document.getElementById('samples-of');
  const list = document.getElementById('sample-list');
  if (!evaluation) {
    of.textContent = 'None yet.';
    list.replaceChildren();
    return;
  }
  const samples = await json(`/evaluations/${evaluation.id}/samples`);
  of.textContent = `checkpoint ${evaluation.step}, ${evaluation.split} split`;
  list.replaceChildren();
  for (const s of Array.isArray(samples) ? samples : []) {
    const div = document.createElement('div');
    div.className = 'sample';
    for (const [label, text] of [['prompt', s.prompt], ['reference', s.reference], ['generation', s.generation]]) {
      const name = document.createElement('div');
      name.className = 'label';
      name.textContent = label + (label === 'generation'
        ? ` (${s.finish}, ${s.generatedTokens} tokens, ROUGE-L ${number(s.rougeL, 3)})` : '');
      const pre = document.createElement('pre');
      pre.textContent = text || '';
      div.append(name, pre);
    }
    list.appendChild(div);
  }
}

async function refresh() {
  if (!current) return;
  const id = encodeURIComponent(current);
  const [training, evaluations, checkpoints, best, stages, lag] = await Promise.all([
    json(`/watch/api/recipes/${id}/training`), json(`/recipes/${id}/evaluations`), json(`/recipes/${id}/checkpoints`),
    json(`/recipes/${id}/best?metric=valid_loss`), json(`/watch/api/recipes/${id}/stages`),
    json(`/watch/api/recipes/${id}/lag`)]);
  showTraining(training);
  const newest = showEvaluations(evaluations, checkpoints, best);
  showStages(stages);
  showLag(lag);
  await showSamples(newest);
  document.getElementById('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  document.body.dataset.loaded = 'true';
}

async function start() {
  const recipes = await json('/watch/api/recipes');
  const select = document.getElementById('recipe');
  for (const r of Array.isArray(recipes) ? recipes : []) {
    const option = document.createElement('option');
    option.value = r.recipeId;
    option.textContent = `${r.recipeId} (${r.method}, ${[...r.datasets].join(', ') || 'all datasets'})`;
    select.appendChild(option);
  }
  const wanted = new URLSearchParams(location.hash.slice(1)).get('recipe');
  current = wanted || (select.options.length ? select.options[0].value : null);
  select.value = current;
  select.addEventListener('change', () => {
    current = select.value;
    location.hash = 'recipe=' + encodeURIComponent(current);
    for (const key of Object.keys(charts)) {
      charts[key].destroy();
      delete charts[key];
    }
    refresh();
  });
  if (!current) {
    document.getElementById('run').textContent = 'No recipe yet: post one to trainer-service (POST /recipes).';
    document.body.dataset.loaded = 'true';
    return;
  }
  await refresh();
  setInterval(refresh, REFRESH_MS);
}

start();
