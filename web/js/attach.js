/** Pages: attaching files to the open conversation: the composer's button, a drop on the conversation, or a
 * paste (a screenshot). Each file goes its way (upload.js) in the tray above the composer: its name, a progress
 * bar, what it is doing (hashing, 秒传, uploading, waiting for the network, resuming from the server's offset)
 * and Cancel; once the server holds it, it is sent as a message through the outbox, like any text. */
import {size} from './attachment-view.js';
import {$, el} from './dom.js';
import {i18n, t} from './i18n.js';
import {Upload} from './upload.js';

export class Attacher {
  constructor(root, {api, outbox, currentKey, maxBytes}) {
    this.api = api;
    this.outbox = outbox;
    this.currentKey = currentKey;  // () -> the open conversation's key, or null
    this.maxBytes = maxBytes;
    this.tray = $('.uploads', root);
    this.items = new Map();  // Upload -> li
    const input = $('.attach-input', root);
    $('.attach', root).addEventListener('click', () => input.click());
    input.addEventListener('change', () => {
      this.add([...input.files]);
      input.value = '';  // the same file may be chosen again
    });
    const pane = $('.chat-open', root);
    pane.addEventListener('dragover', (event) => {
      if (!event.dataTransfer.types.includes('Files')) return;
      event.preventDefault();
      pane.classList.add('dropping');
    });
    pane.addEventListener('dragleave', (event) => event.target === pane && pane.classList.remove('dropping'));
    pane.addEventListener('drop', (event) => {
      pane.classList.remove('dropping');
      if (!event.dataTransfer.files.length) return;
      event.preventDefault();
      this.add([...event.dataTransfer.files]);
    });
    $('.composer textarea', root).addEventListener('paste', (event) => {
      const files = [...event.clipboardData.files];
      if (!files.length) return;  // text is pasted as text
      event.preventDefault();
      this.add(files);
    });
    i18n.addEventListener('change', () => { for (const upload of this.items.keys()) this.render(upload); });
  }

  /** Send each file to the open conversation. */
  add(files) {
    const key = this.currentKey();
    if (key === null) return;
    for (const file of files) {
      const upload = new Upload(this.api, file, key);
      this.items.set(upload, el('li', {class: 'upload'}));
      this.tray.append(this.items.get(upload));
      this.tray.hidden = false;
      upload.addEventListener('change', () => this.render(upload));
      this.render(upload);
      if (file.size > this.maxBytes) {
        upload.error = {message: t('attach.too_large', {max: size(this.maxBytes)})};
        upload.set('failed');
        continue;
      }
      upload.run().then((fileView) => fileView && this.send(upload, fileView));
    }
  }

  send(upload, file) {
    this.outbox.send(upload.key, '', {attachment: file.fid, file: {...file, local: upload.local}});
    this.drop(upload);
  }

  drop(upload) {
    this.items.get(upload)?.remove();
    this.items.delete(upload);
    this.tray.hidden = this.items.size === 0;
  }

  /** One upload's line: name, size, progress, what it is doing, Cancel (or Dismiss once it has stopped). */
  render(upload) {
    const item = this.items.get(upload);
    if (!item) return;
    const {file, state} = upload;
    const done = state === 'hashing' ? upload.hashed : upload.sent;
    const stopped = state === 'failed' || state === 'cancelled';
    item.dataset.state = state;
    item.replaceChildren(
      el('span', {class: 'upload-name', translate: 'no', text: file.name || t('attach.pasted')}),
      el('span', {class: 'upload-size', text: size(file.size)}),
      el('progress', {max: String(file.size || 1), value: String(done), 'aria-label': t(`attach.state.${state}`)}),
      el('span', {class: 'upload-state', text: this.status(upload)}),
      el('button', {type: 'button', class: 'ghost upload-cancel', text: t(stopped ? 'attach.dismiss' : 'attach.cancel'),
        onclick: () => (stopped ? this.drop(upload) : upload.cancel())}));
  }

  status(upload) {
    const percent = Math.floor((100 * (upload.state === 'hashing' ? upload.hashed : upload.sent)) / (upload.file.size || 1));
    if (upload.state === 'failed') return t('attach.state.failed', {message: upload.error?.message || ''});
    if (upload.state === 'waiting') return t('attach.state.waiting', {sent: size(upload.sent)});
    return t(`attach.state.${upload.state}`, {percent});
  }
}
