// superres web page: choose a photo, send it as a job, follow its progress, compare and download the result.
// Plain JavaScript, no dependencies; talks only to this server's API (see /openapi.yaml).
(() => {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const ui = {
    dropzone: $('dropzone'), file: $('file'), chosen: $('chosen'), limitHint: $('limit-hint'),
    scale: $('scale'), size: $('size'), model: $('model'), drawing: $('drawing'), format: $('format'), tta: $('tta'), start: $('start'),
    message: $('message'), messageTitle: $('message-title'), messageDetail: $('message-detail'),
    progress: $('progress'), uploadBar: $('upload-bar'), uploadText: $('upload-text'),
    processBar: $('process-bar'), processText: $('process-text'), cancel: $('cancel'),
    result: $('result'), viewer: $('viewer'), stage: $('stage'), before: $('before'), after: $('after'),
    divider: $('divider'), download: $('download'), again: $('again'),
    keyForm: $('key-form'), key: $('key'), keyHint: $('key-hint'),
    metadata: $('metadata'), metadataInfo: $('metadata-info'), profileName: $('profile-name'),
    metadataLines: $('metadata-lines'), noPreview: $('no-preview'),
    factOriginal: $('fact-original'), factResult: $('fact-result'), factModel: $('fact-model'), factChoice: $('fact-choice'), factTime: $('fact-time'),
  };

  const accepted = ['image/png', 'image/jpeg', 'image/webp', 'image/tiff'];
  const state = {
    models: [], defaultModel: null, limits: null,
    file: null, fileURL: null, original: null, inspection: null, inspectRun: 0,
    xhr: null, events: null, job: null, uploadStarted: 0, uploadSeconds: 0, cancelling: false,
    zoom: 'fit', split: 50,
  };

  // ---------- Formatting ----------

  function formatBytes(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(bytes < 10240 ? 1 : 0)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  function formatSeconds(seconds) {
    if (seconds == null) return '–';
    return seconds < 10 ? `${seconds.toFixed(2)} s` : `${seconds.toFixed(1)} s`;
  }

  const formatNames = { png: 'PNG', jpeg: 'JPEG', jpg: 'JPEG', webp: 'WebP', tiff: 'TIFF', tif: 'TIFF' };

  // ---------- Messages ----------

  function showMessage(title, detail, kind = 'error') {
    ui.messageTitle.textContent = title;
    ui.messageDetail.textContent = detail || '';
    ui.message.classList.toggle('info', kind === 'info');
    ui.message.hidden = false;
  }

  function hideMessage() {
    ui.message.hidden = true;
  }

  /// Shows an RFC 9457 problem (or what we can tell from a bare status).
  function showProblem(problem, status) {
    if (problem && (problem.title || problem.detail)) {
      showMessage(problem.title || 'Something went wrong', problem.detail || '');
      return;
    }
    const fallback = {
      400: ['The request was not accepted', 'The server could not read the upload.'],
      401: ['API key required', 'This server needs an API key. Reload the page to enter one.'],
      429: ['Too many requests', 'You have sent many requests in a short time. Wait a minute and try again.'],
      413: ['Upload too large', 'The file is over the server\'s size limit. Try a smaller image.'],
      415: ['Unsupported image format', 'Send a PNG, JPEG, WebP or TIFF image.'],
      422: ['Corrupt image', 'The image could not be read. The file may be damaged.'],
      503: ['Server busy', 'The server is busy or restarting. Try again in a moment.'],
      504: ['Processing took too long', 'Try a smaller image or a faster model.'],
    }[status];
    if (fallback) showMessage(fallback[0], fallback[1]);
    else showMessage('Something went wrong', status ? `The server answered with status ${status}.` : '');
  }

  function parseProblem(text) {
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  }

  // ---------- Models ----------

  // ---------- API key ----------

  // A server started with --api-keys-file answers 401 until a key is sent. The page keeps the key in a
  // SameSite=Strict cookie, which the browser sends with every request of this page (uploads, the event stream,
  // the result image) and no other site's.
  const keyCookie = 'superres_api_key';

  function askForKey(rejected) {
    ui.keyForm.hidden = false;
    ui.keyHint.textContent = rejected
      ? 'The server did not accept this key. Check it and try again.'
      : 'Ask the server\'s operator for a key. It is kept in this browser only.';
    ui.keyHint.classList.toggle('error', rejected);
    ui.key.focus();
  }

  ui.keyForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = ui.key.value.trim();
    if (!key) return;
    const secure = location.protocol === 'https:' ? '; Secure' : '';
    document.cookie = `${keyCookie}=${encodeURIComponent(key)}; path=/; SameSite=Strict; max-age=31536000${secure}`;
    ui.key.value = '';
    hideMessage();
    loadModels(true);
  });

  async function loadModels(afterKey = false) {
    try {
      const response = await fetch('/api/v1/models', { headers: { Accept: 'application/json' } });
      if (response.status === 401) {
        askForKey(afterKey || document.cookie.includes(`${keyCookie}=`));
        return;
      }
      ui.keyForm.hidden = true;
      if (!response.ok) throw new Error(`status ${response.status}`);
      const list = await response.json();
      state.models = list.models;
      state.defaultModel = list.default;
      state.limits = list.limits || null;
      if (state.limits && state.limits.maxUploadBytes) {
        ui.limitHint.textContent = `, up to ${formatBytes(state.limits.maxUploadBytes)}`;
      }
      // Any model runs at any enlargement (chained, or its result shrunk); the loaded models' own scales are
      // offered beside the usual ones, then a width or a height in pixels.
      const scales = [...new Set([1.5, 2, 2.5, 3, 4, 6, 8, ...list.models.map((m) => m.scale)])].sort((a, b) => a - b);
      ui.scale.replaceChildren(
        ...scales.map((s) => new Option(`${s}×`, String(s))),
        new Option('Width…', 'width'),
        new Option('Height…', 'height'));
      const fallback = list.models.find((m) => m.name === list.default) || list.models[0];
      ui.scale.value = String(fallback.scale);
      ui.model.replaceChildren(...list.models.map((m) => {
        const what = m.family === 'auto' ? ' – chooses per image' : '';
        return new Option(`${m.name}${what}${m.default ? ' (default)' : ''}`, m.name);
      }));
      ui.model.value = fallback.name;
      const drawings = list.models.filter((m) => m.content === 'drawing');
      state.hasDrawingModel = drawings.length > 0;
      ui.drawing.checked = fallback.content === 'drawing';
      ui.drawing.disabled = !state.hasDrawingModel;
      ui.drawing.parentElement.title = state.hasDrawingModel
        ? 'Uses a model trained for drawings, illustrations and anime'
        : 'No drawing or anime model is loaded on this server (serve one, e.g. --model realesr-animevideov3-x3)';
    } catch (error) {
      showMessage('Could not load the models', `The server did not answer (${error.message}). Reload the page to try again.`);
    }
  }

  // The loaded model of the content asked for, of the whole scale chosen when one has it natively.
  function modelFor(content) {
    const scale = Number(ui.scale.value);
    const candidates = state.models.filter((m) => (m.content || 'photo') === content);
    return candidates.find((m) => m.scale === scale) || candidates[0];
  }

  // The "Drawing / anime" switch: a drawing model, or back to the default when it is turned off.
  function followContent() {
    if (ui.drawing.checked) {
      const drawing = modelFor('drawing');
      if (drawing) ui.model.value = drawing.name;
    } else {
      ui.model.value = state.defaultModel;
      followScale();
    }
  }

  ui.drawing.addEventListener('change', followContent);
  ui.model.addEventListener('change', () => {
    const chosen = state.models.find((m) => m.name === ui.model.value);
    ui.drawing.checked = Boolean(chosen && chosen.content === 'drawing');
  });

  // A whole scale that a loaded model has natively picks that model, unless the default chooses per image.
  function followScale() {
    const sized = ui.scale.value === 'width' || ui.scale.value === 'height';
    ui.size.hidden = !sized;
    if (sized) {
      ui.size.placeholder = `${ui.scale.value} in px`;
      if (!ui.size.value) ui.size.value = '1000';
      return;
    }
    if (ui.drawing.checked) {
      const drawing = modelFor('drawing');
      if (drawing) ui.model.value = drawing.name;
      return;
    }
    const fallback = state.models.find((m) => m.name === state.defaultModel);
    if (!fallback || fallback.family === 'auto') return;
    const scale = Number(ui.scale.value);
    const native = fallback.scale === scale
      ? fallback : state.models.find((m) => m.scale === scale && (m.content || 'photo') === 'photo');
    ui.model.value = (native || fallback).name;
  }

  ui.scale.addEventListener('change', followScale);

  // ---------- Choosing a file ----------

  function chooseFile(file) {
    hideMessage();
    if (!file) return;
    const byName = /\.(png|jpe?g|webp|tiff?)$/i.test(file.name || '');
    if (!accepted.includes(file.type) && !byName) {
      showMessage('Unsupported image format', `${file.name || 'This file'} is not a PNG, JPEG, WebP or TIFF image.`);
      return;
    }
    if (state.limits && file.size > state.limits.maxUploadBytes) {
      showMessage('Upload too large',
        `${file.name} is ${formatBytes(file.size)}; the server takes files up to ${formatBytes(state.limits.maxUploadBytes)}.`);
      return;
    }
    if (state.fileURL) URL.revokeObjectURL(state.fileURL);
    state.file = file;
    state.fileURL = URL.createObjectURL(file);
    state.original = null;
    const probe = new Image();
    probe.onload = () => {
      state.original = { width: probe.naturalWidth, height: probe.naturalHeight };
      ui.chosen.textContent = `${file.name || 'Pasted image'} · ${probe.naturalWidth}×${probe.naturalHeight} · ${formatBytes(file.size)}`;
      if (state.limits && probe.naturalWidth * probe.naturalHeight > state.limits.maxPixels) {
        showMessage('Image too large',
          `${file.name} has ${(probe.naturalWidth * probe.naturalHeight / 1e6).toFixed(1)} megapixels; the server takes up to ${(state.limits.maxPixels / 1e6).toFixed(1)}.`);
      }
    };
    probe.src = state.fileURL;
    probe.onerror = () => {
      // Browsers do not show TIFF: its size comes from the server's look at the file.
      if (state.inspection) ui.chosen.textContent = `${file.name} · ${state.inspection.width}×${state.inspection.height} · ${formatBytes(file.size)}`;
    };
    ui.chosen.textContent = `${file.name || 'Pasted image'} · ${formatBytes(file.size)}`;
    ui.chosen.hidden = false;
    state.inspection = null;
    inspectFile();
    ui.start.disabled = false;
    ui.start.focus();
  }

  ui.dropzone.addEventListener('click', () => ui.file.click());
  ui.dropzone.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      ui.file.click();
    }
  });
  ui.file.addEventListener('change', () => chooseFile(ui.file.files[0]));

  ['dragenter', 'dragover'].forEach((name) => ui.dropzone.addEventListener(name, (event) => {
    event.preventDefault();
    ui.dropzone.classList.add('dragging');
  }));
  ['dragleave', 'dragend'].forEach((name) => ui.dropzone.addEventListener(name, () => {
    ui.dropzone.classList.remove('dragging');
  }));
  ui.dropzone.addEventListener('drop', (event) => {
    event.preventDefault();
    ui.dropzone.classList.remove('dragging');
    chooseFile(event.dataTransfer.files[0]);
  });
  // A file dropped beside the zone must not replace the page.
  window.addEventListener('dragover', (event) => event.preventDefault());
  window.addEventListener('drop', (event) => event.preventDefault());

  document.addEventListener('paste', (event) => {
    const items = [...(event.clipboardData ? event.clipboardData.items : [])];
    const item = items.find((i) => i.kind === 'file' && i.type.startsWith('image/'));
    if (!item) return;
    event.preventDefault();
    const file = item.getAsFile();
    const extension = (file.type.split('/')[1] || 'png').replace('jpeg', 'jpg');
    chooseFile(new File([file], file.name && file.name !== 'image.png' ? file.name : `pasted.${extension}`, { type: file.type }));
  });

  // ---------- Running a job ----------

  function setBusy(busy) {
    ui.start.disabled = busy || !state.file;
    ui.scale.disabled = busy;
    ui.size.disabled = busy;
    ui.model.disabled = busy;
    ui.drawing.disabled = busy || !state.hasDrawingModel;
    ui.format.disabled = busy;
    ui.tta.disabled = busy;
    ui.metadata.disabled = busy;
    ui.dropzone.setAttribute('aria-disabled', String(busy));
    ui.dropzone.style.pointerEvents = busy ? 'none' : '';
  }

  function start() {
    if (!state.file) return;
    hideMessage();
    ui.result.hidden = true;
    ui.progress.hidden = false;
    ui.uploadBar.value = 0;
    ui.uploadText.textContent = '0%';
    ui.processBar.value = 0;
    ui.processBar.removeAttribute('value');
    ui.processBar.value = 0;
    ui.processText.textContent = 'waiting for the upload';
    ui.cancel.disabled = false;
    ui.cancel.textContent = 'Cancel';
    state.cancelling = false;
    state.job = null;
    setBusy(true);

    const query = requestQuery();
    if (ui.tta.checked) query.set('tta', 'true');
    if (ui.metadata.value === 'strip') query.set('metadata', 'strip');
    const form = new FormData();
    form.append('image', state.file, state.file.name || 'image.png');
    const xhr = new XMLHttpRequest();
    state.xhr = xhr;
    state.uploadStarted = performance.now();
    xhr.open('POST', `/api/v1/jobs?${query}`);
    xhr.responseType = 'text';
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.upload.addEventListener('progress', (event) => {
      if (!event.lengthComputable) return;
      const percent = Math.round((event.loaded / event.total) * 100);
      ui.uploadBar.value = percent;
      ui.uploadText.textContent = `${percent}% of ${formatBytes(event.total)}`;
    });
    xhr.addEventListener('load', () => {
      state.xhr = null;
      state.uploadSeconds = (performance.now() - state.uploadStarted) / 1000;
      if (xhr.status === 202) {
        ui.uploadBar.value = 100;
        ui.uploadText.textContent = `done in ${formatSeconds(state.uploadSeconds)}`;
        follow(JSON.parse(xhr.responseText));
      } else {
        finishRun();
        showProblem(parseProblem(xhr.responseText), xhr.status);
      }
    });
    xhr.addEventListener('error', () => {
      state.xhr = null;
      finishRun();
      showMessage('The upload failed',
        'The server could not be reached or closed the connection. Check that it is running; a file over the size limit can also cause this.');
    });
    xhr.addEventListener('abort', () => {
      state.xhr = null;
      finishRun();
      showMessage('Cancelled', 'The upload was cancelled.', 'info');
    });
    xhr.send(form);
  }

  function follow(job) {
    state.job = job;
    updateProgress(job);
    const events = new EventSource(job.links.events);
    state.events = events;
    const handle = (event) => {
      const current = JSON.parse(event.data);
      state.job = current;
      updateProgress(current);
      if (event.type === 'done') {
        closeEvents();
        showResult(current);
      } else if (event.type === 'failed') {
        closeEvents();
        finishRun();
        showProblem(current.error, current.error && current.error.status);
      } else if (event.type === 'cancelled') {
        closeEvents();
        finishRun();
        showMessage('Cancelled', 'The job was cancelled; nothing was kept.', 'info');
      }
    };
    ['status', 'progress', 'done', 'failed', 'cancelled'].forEach((name) => events.addEventListener(name, handle));
    events.addEventListener('error', () => {
      if (events.readyState === EventSource.CLOSED) {
        closeEvents();
        finishRun();
        showMessage('Lost the connection', 'The server stopped sending progress. Reload the page and try again.');
      } else {
        ui.processText.textContent = 'reconnecting…';
      }
    });
  }

  function closeEvents() {
    if (state.events) state.events.close();
    state.events = null;
  }

  function updateProgress(job) {
    const percent = Math.round((job.progress || 0) * 100);
    ui.processBar.value = percent;
    if (job.state === 'queued') {
      ui.processText.textContent = 'waiting for a free worker';
    } else if (job.state === 'running') {
      const tiles = job.tilesTotal > 1 ? ` (${job.tilesDone}/${job.tilesTotal} tiles)` : '';
      ui.processText.textContent = state.cancelling ? 'stopping…' : `${percent}%${tiles}`;
    } else if (job.state === 'succeeded') {
      ui.processText.textContent = `done in ${formatSeconds(job.timings && job.timings.processingSeconds)}`;
    }
  }

  function finishRun() {
    ui.progress.hidden = true;
    setBusy(false);
  }

  async function cancel() {
    if (state.xhr) {
      state.xhr.abort();
      return;
    }
    if (!state.job) return;
    state.cancelling = true;
    ui.cancel.disabled = true;
    ui.cancel.textContent = 'Cancelling…';
    try {
      const response = await fetch(state.job.links.self, { method: 'DELETE' });
      if (response.status === 204) {
        // The job had already finished; its events have said how.
        return;
      }
      if (!response.ok) {
        showProblem(parseProblem(await response.text()), response.status);
      }
    } catch {
      showMessage('Could not cancel', 'The server could not be reached.');
    }
  }

  // ---------- What the file carries ----------

  /// The size, model and format the page would send, as query parameters.
  function requestQuery() {
    const query = new URLSearchParams({ model: ui.model.value, format: ui.format.value });
    if (ui.scale.value === 'width' || ui.scale.value === 'height') {
      query.set(ui.scale.value, String(Math.round(Number(ui.size.value))));
    } else {
      query.set('scale', ui.scale.value);
    }
    return query;
  }

  /// Asks the server what the chosen file carries (colour profile, EXIF, XMP, resolution, pages) and what the result
  /// would keep of it; shown under the file's name.
  async function inspectFile() {
    if (!state.file) return;
    const run = ++state.inspectRun;
    const form = new FormData();
    form.append('image', state.file, state.file.name || 'image.png');
    try {
      const response = await fetch(`/api/v1/inspect?${requestQuery()}`, {
        method: 'POST', body: form, headers: { Accept: 'application/json' },
      });
      if (run !== state.inspectRun) return;
      if (!response.ok) {
        ui.metadataInfo.hidden = true;
        return;
      }
      state.inspection = await response.json();
      if (!state.original) {
        ui.chosen.textContent = `${state.file.name || 'Pasted image'} · ${state.inspection.width}×${state.inspection.height} · ${formatBytes(state.file.size)}`;
      }
      showInspection();
    } catch {
      if (run === state.inspectRun) ui.metadataInfo.hidden = true;
    }
  }

  function showInspection() {
    const info = state.inspection;
    if (!info) return;
    ui.profileName.textContent = info.colourProfile || 'none (the pixels are taken as sRGB)';
    const lines = (ui.metadata.value === 'strip' ? info.strip : info.keep)
      .filter((line) => !line.startsWith('colour profile'));
    ui.metadataLines.replaceChildren(...lines.map((line) => {
      const item = document.createElement('li');
      item.textContent = line;
      return item;
    }));
    ui.metadataInfo.hidden = false;
  }

  ui.metadata.addEventListener('change', showInspection);
  ui.format.addEventListener('change', inspectFile);

  ui.start.addEventListener('click', start);
  ui.cancel.addEventListener('click', cancel);

  // ---------- Result ----------

  function resultName(job) {
    const stem = (job.input.filename || 'image').replace(/\.[^.]+$/, '');
    const extension = job.format === 'jpeg' ? 'jpg' : job.format === 'tiff' ? 'tif' : job.format;
    const size = job.width || job.height ? `${job.output.width}x${job.output.height}` : `x${job.scale}`;
    return `${stem}_${size}.${extension}`;
  }

  function showResult(job) {
    // A TIFF (the upload or the result) is not shown by browsers: then the page offers the download only.
    const tiff = (format) => format === 'tiff' || format === 'tif';
    const viewable = !tiff(job.input.format) && !tiff(job.format);
    const loaded = (img) => new Promise((resolve, reject) => {
      if (!viewable) return resolve();
      if (img.complete && img.naturalWidth) return resolve();
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('image'));
    });
    ui.before.src = viewable ? state.fileURL : '';
    ui.after.src = viewable ? job.links.result : '';
    Promise.all([loaded(ui.before), loaded(ui.after)]).then(() => {
      finishRun();
      ui.result.hidden = false;
      ui.viewer.hidden = !viewable;
      ui.noPreview.hidden = viewable;
      ui.download.href = job.links.result;
      ui.download.setAttribute('download', resultName(job));
      ui.factOriginal.textContent =
        `${job.input.width}×${job.input.height} px · ${formatNames[job.input.format] || job.input.format} · ${formatBytes(job.input.bytes)}`;
      ui.factResult.textContent =
        `${job.output.width}×${job.output.height} px · ${formatNames[job.output.format] || job.output.format} · ${formatBytes(job.output.bytes)}`;
      const model = state.models.find((m) => m.name === job.model);
      const family = model && model.family !== 'auto' ? ` · ${model.family.toUpperCase()}` : '';
      const chosen = job.choice && job.choice !== job.model ? ` → ${job.choice}` : '';
      const enlarged = job.width || job.height ? `${job.output.width}×${job.output.height}` : `${job.scale}×`;
      ui.factModel.textContent = `${job.model}${family}${chosen} · ${enlarged}`;
      // What the server estimated from the file (JPEG quality, blockiness, noise) and the network it chose for it.
      ui.factChoice.textContent = job.choiceSummary || '–';
      const t = job.timings || {};
      ui.factTime.textContent =
        `${formatSeconds(t.processingSeconds)} enhancing · ${formatSeconds(state.uploadSeconds + (t.totalSeconds || 0))} in all`;
      setSplit(50);
      setZoom('fit');
      ui.result.scrollIntoView({ behavior: 'smooth', block: 'start' });
    }).catch(() => {
      finishRun();
      showMessage('Could not show the result', 'The enhanced image could not be loaded. Try again.');
    });
  }

  ui.again.addEventListener('click', () => {
    ui.result.hidden = true;
    hideMessage();
    ui.file.value = '';
    ui.dropzone.focus();
    ui.dropzone.scrollIntoView({ behavior: 'smooth', block: 'center' });
  });

  // ---------- Zoom ----------

  function fitScale() {
    const width = ui.after.naturalWidth;
    const height = ui.after.naturalHeight;
    const available = ui.viewer.clientWidth;
    const maxHeight = Math.min(window.innerHeight * 0.72, 820) - 2;
    return Math.min(available / width, maxHeight / height);
  }

  function setZoom(zoom) {
    const width = ui.after.naturalWidth;
    const height = ui.after.naturalHeight;
    if (!width || !height) return;
    const viewer = ui.viewer;
    // Keep the point at the centre of the view where it is.
    const centreX = (viewer.scrollLeft + viewer.clientWidth / 2) / Math.max(1, ui.stage.offsetWidth);
    const centreY = (viewer.scrollTop + viewer.clientHeight / 2) / Math.max(1, ui.stage.offsetHeight);
    state.zoom = zoom;
    const scale = zoom === 'fit' ? fitScale() : Number(zoom);
    ui.stage.style.width = `${Math.round(width * scale)}px`;
    ui.stage.style.height = `${Math.round(height * scale)}px`;
    // Zoomed to 100% and beyond, show pixels as pixels; at "Fit" let the browser smooth both pictures, so that the
    // comparison is with an ordinary enlargement.
    ui.stage.classList.toggle('pixelated', zoom !== 'fit' && scale >= 1);
    const zoomed = ui.stage.offsetWidth > viewer.clientWidth || ui.stage.offsetHeight > viewer.clientHeight;
    viewer.classList.toggle('zoomed', zoomed);
    viewer.scrollLeft = centreX * ui.stage.offsetWidth - viewer.clientWidth / 2;
    viewer.scrollTop = centreY * ui.stage.offsetHeight - viewer.clientHeight / 2;
    document.querySelectorAll('[data-zoom]').forEach((button) => {
      button.setAttribute('aria-pressed', String(button.dataset.zoom === String(zoom)));
    });
  }

  document.querySelectorAll('[data-zoom]').forEach((button) => {
    button.addEventListener('click', () => setZoom(button.dataset.zoom === 'fit' ? 'fit' : Number(button.dataset.zoom)));
  });
  window.addEventListener('resize', () => {
    if (!ui.result.hidden && state.zoom === 'fit') setZoom('fit');
  });

  // ---------- Before/after divider ----------

  function setSplit(percent) {
    const value = Math.max(0, Math.min(100, percent));
    state.split = value;
    ui.stage.style.setProperty('--split', `${value}%`);
    const rounded = Math.round(value);
    ui.divider.setAttribute('aria-valuenow', String(rounded));
    ui.divider.setAttribute('aria-valuetext', `${rounded}% before, ${100 - rounded}% after`);
  }

  function splitAt(clientX) {
    const box = ui.stage.getBoundingClientRect();
    setSplit(((clientX - box.left) / box.width) * 100);
  }

  ui.divider.addEventListener('keydown', (event) => {
    const step = event.shiftKey ? 10 : 1;
    const moves = {
      ArrowLeft: -step, ArrowDown: -step, ArrowRight: step, ArrowUp: step, PageDown: -10, PageUp: 10,
    };
    if (event.key in moves) setSplit(state.split + moves[event.key]);
    else if (event.key === 'Home') setSplit(0);
    else if (event.key === 'End') setSplit(100);
    else return;
    event.preventDefault();
  });

  // Drag the divider to compare; drag elsewhere to pan when zoomed in, or click to move the divider there.
  let drag = null;
  ui.stage.addEventListener('pointerdown', (event) => {
    if (event.button !== 0) return;
    const onDivider = event.target === ui.divider || ui.divider.contains(event.target);
    const zoomed = ui.viewer.classList.contains('zoomed');
    if (onDivider || !zoomed) {
      drag = { kind: 'split' };
      splitAt(event.clientX);
      ui.divider.focus({ preventScroll: true });
    } else {
      drag = { kind: 'pan', x: event.clientX, y: event.clientY, left: ui.viewer.scrollLeft, top: ui.viewer.scrollTop };
      ui.viewer.classList.add('panning');
    }
    ui.stage.setPointerCapture(event.pointerId);
    event.preventDefault();
  });
  ui.stage.addEventListener('pointermove', (event) => {
    if (!drag) return;
    if (drag.kind === 'split') {
      splitAt(event.clientX);
    } else {
      ui.viewer.scrollLeft = drag.left - (event.clientX - drag.x);
      ui.viewer.scrollTop = drag.top - (event.clientY - drag.y);
    }
  });
  const endDrag = () => {
    drag = null;
    ui.viewer.classList.remove('panning');
  };
  ui.stage.addEventListener('pointerup', endDrag);
  ui.stage.addEventListener('pointercancel', endDrag);

  loadModels();
})();
