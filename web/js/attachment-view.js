/** Pages: the file a message carries, in its bubble: an image as its thumbnail (a click opens it large), any
 * other file as a card (name, size, type) that downloads. An <img> sends no token, so each file's bytes come by
 * a short-lived signed link (POST /api/files/links, asked for the files of a page at once and kept until they
 * near their expiry). A message still on its way shows the picture from the file itself. */
import {el} from './dom.js';
import {locale, t} from './i18n.js';

const BOX = 240;  // CSS pixels a thumbnail fits in (its size is set before it loads: the list does not jump)
const FRESH = 60;  // seconds before a link's expiry when it is asked for again

export class Attachments {
  constructor(api) {
    this.api = api;
    this.links = new Map();  // fid -> {url, thumb_url, expires_at}
    this.waiting = new Map();  // fid -> [resolve]: asked for in the next batch
  }

  /** The element showing an attachment: {fid?, name, size, mime, kind, width?, height?, local?}. */
  node(attachment) {
    return attachment.kind === 'image' ? this.picture(attachment) : this.card(attachment);
  }

  picture(attachment) {
    const scale = Math.min(1, BOX / Math.max(attachment.width || BOX, attachment.height || BOX));
    const img = el('img', {alt: attachment.name, translate: 'no', decoding: 'async',
      width: Math.round((attachment.width || BOX) * scale), height: Math.round((attachment.height || BOX) * scale)});
    if (attachment.local) img.src = attachment.local;
    else this.link(attachment.fid).then((link) => { img.src = link.thumb_url; }, () => img.classList.add('broken'));
    const button = el('button', {type: 'button', class: 'photo', title: t('attach.open'),
      'aria-label': t('attach.open_named', {name: attachment.name})}, img);
    if (attachment.fid) button.addEventListener('click', () => this.openLarge(attachment));
    return button;
  }

  card(attachment) {
    const card = el('button', {type: 'button', class: 'file-card', title: t('attach.download')},
      el('span', {class: 'file-icon', 'aria-hidden': 'true', text: '📄'}),
      el('span', {class: 'file-text'},
        el('span', {class: 'file-name', translate: 'no', text: attachment.name}),
        el('span', {class: 'file-meta', translate: 'no', text: `${size(attachment.size)} · ${attachment.mime || ''}`})));
    if (attachment.fid) card.addEventListener('click', () => this.download(attachment));
    return card;
  }

  async download(attachment) {
    const link = await this.link(attachment.fid);
    el('a', {href: link.url, download: attachment.name}).click();  // served as an attachment: it downloads
  }

  /** The image at full size above the page; a click, Escape or the close button closes it. */
  async openLarge(attachment) {
    const link = await this.link(attachment.fid);
    const close = () => { overlay.remove(); document.removeEventListener('keydown', onKey); };
    const onKey = (event) => event.key === 'Escape' && close();
    const overlay = el('div', {class: 'lightbox', role: 'dialog', 'aria-modal': 'true',
      'aria-label': t('attach.open_named', {name: attachment.name}), onclick: (event) => {
        if (event.target === overlay) close();
      }},
    el('img', {src: link.url, alt: attachment.name, translate: 'no'}),
    el('div', {class: 'lightbox-bar'},
      el('span', {class: 'file-name', translate: 'no', text: attachment.name}),
      el('a', {href: link.url, download: attachment.name, class: 'ghost', text: t('attach.download')}),
      el('button', {type: 'button', class: 'ghost', text: t('attach.close'), onclick: close})));
    document.addEventListener('keydown', onKey);
    document.body.append(overlay);
    overlay.querySelector('button').focus();
  }

  /** A signed link to a file, from the links kept or the next batch (one request for a page of files). */
  link(fid) {
    const known = this.links.get(fid);
    if (known && known.expires_at - Date.now() / 1000 > FRESH) return Promise.resolve(known);
    return new Promise((resolve, reject) => {
      if (!this.waiting.size) queueMicrotask(() => setTimeout(() => this.ask(), 0));
      this.waiting.set(fid, [...(this.waiting.get(fid) || []), {resolve, reject}]);
    });
  }

  async ask() {
    const waiting = new Map(this.waiting);
    this.waiting.clear();
    try {
      const {links} = await this.api.call('POST', '/api/files/links', {fids: [...waiting.keys()]});
      for (const [fid, link] of Object.entries(links)) this.links.set(Number(fid), link);
      for (const [fid, calls] of waiting) for (const call of calls) call.resolve(this.links.get(fid));
    } catch (error) {
      for (const calls of waiting.values()) for (const call of calls) call.reject(error);
    }
  }
}

/** A preview's words for a message that carries a file: "[Image] caption", "[File] name". */
export function mediaPreview(message, text) {
  const attachment = message.attachment;
  if (!attachment) return text;
  if (attachment.kind === 'image') return `${t('attach.preview.image')} ${text || ''}`.trim();
  return `${t('attach.preview.file', {name: attachment.name})} ${text || ''}`.trim();
}

/** A size in bytes as people read it, in the page's language (1.2 MB, 340 kB), counted by 1,024 as chat apps
 * and --max-upload-mb do (a 25 MB limit reads "25 MB"). */
export function size(bytes) {
  const units = [['byte', 1], ['kilobyte', 1024], ['megabyte', 1024 ** 2], ['gigabyte', 1024 ** 3]];
  const [unit, scale] = units.filter(([, s]) => bytes >= s).pop() || units[0];
  return new Intl.NumberFormat(locale(), {style: 'unit', unit, unitDisplay: 'short',
    maximumFractionDigits: scale === 1 ? 0 : 1}).format(bytes / scale);
}
