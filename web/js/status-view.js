/** Pages: the connection panel: a switch that shows and chooses the transport, a status light
 * (connected, reconnecting, offline) and, while the server is away, a banner that counts down to the
 * next attempt of the sync loop. */
import {$, el} from './dom.js';
import {i18n, locale, t} from './i18n.js';
import {TRANSPORTS} from './sync.js';

export class StatusView {
  constructor(root, banner, loop) {
    this.loop = loop;
    this.switch = $('.transport-switch', root);
    this.light = $('.status-light', root);
    this.text = $('.status-text', root);
    this.status = $('.status', root);
    this.banner = banner;
    this.bannerText = $('.banner-text', banner);
    this.countdown = null;
    this.away = false;  // the server was lost and is not back yet
    this.last = null;  // the status on screen, to write again in another language
    this.switch.replaceChildren(...TRANSPORTS.map((transport) => el('button', {
      type: 'button', role: 'radio', dataset: {transport: transport.name}, onclick: () => loop.start(transport.name),
    })));
    this.labelSwitch();
    this.retryButton = $('.retry-now', banner);
    this.retryButton.addEventListener('click', () => loop.retryNow());
    this.status.addEventListener('mouseenter', () => this.showHeard());
    loop.addEventListener('status', (event) => this.show(event.detail));
    i18n.addEventListener('change', () => this.relabel());
  }

  labelSwitch() {
    for (const button of this.switch.children) {
      const transport = TRANSPORTS.find((x) => x.name === button.dataset.transport);
      button.textContent = transport.label;
      button.title = transport.about;
    }
  }

  relabel() {
    this.labelSwitch();
    if (this.last) this.show(this.last);
    if (this.status.title) this.showHeard();
  }

  show(status) {
    this.last = status;
    for (const button of this.switch.children) {
      button.setAttribute('aria-checked', String(button.dataset.transport === status.chosen));
    }
    const state = status.state === 'connecting' ? 'reconnecting' : status.state;
    this.status.dataset.state = state;
    this.light.dataset.state = state;
    const label = TRANSPORTS.find((x) => x.name === status.transport)?.label ?? status.label;  // in today's language
    const via = status.fallback ? t('status.fallback', {transport: label}) : label;
    this.text.textContent = t(`status.${status.state}`, {transport: via});
    // The line never wraps (nothing below it moves): cut short, the text is whole in its title.
    if (this.text.scrollWidth > this.text.clientWidth) this.text.title = this.text.textContent;
    else this.text.removeAttribute('title');
    this.showBanner(status);
  }

  /** From losing the server until it is back: "The server cannot be reached. Retrying in 3 s…",
   * ticking down to the sync loop's next attempt, then "Reconnecting…" during the attempt. */
  showBanner(status) {
    clearInterval(this.countdown);
    if (status.state === 'offline' && status.retryAt) this.away = true;
    if (status.state === 'connected' || (status.state === 'offline' && !status.retryAt)) this.away = false;
    this.banner.hidden = !this.away;
    if (!this.away) return;
    const tick = () => {
      const seconds = Math.max(0, Math.ceil((status.retryAt - Date.now()) / 1000));
      this.bannerText.textContent = status.state === 'offline'
        ? t('banner.unreachable', {seconds}) : t('banner.reconnecting');
    };
    tick();
    this.retryButton.hidden = status.state !== 'offline';
    if (status.state === 'offline') this.countdown = setInterval(tick, 250);
  }

  showHeard() {
    const heard = this.loop.heardAt ? new Date(this.loop.heardAt).toLocaleTimeString(locale()) : t('status.heard.never');
    this.status.title = t('status.heard', {time: heard});
  }
}
