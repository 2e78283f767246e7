/** Pages: the compound cursor's second half (SPEC section 15): a gseq for each large group this tab
 * follows, beside the seq of the user's own timeline (sync.js). A large group stores each message once, in
 * the group's own timeline (read diffusion), so its messages reach the tab as
 * {type: 'message', group, gseq, message} with no seq: the tab follows each such group by its gseq and
 * drops what it holds already, as it does by seq.
 *
 * Where a group's cursor comes from:
 *   start(groups_seq)  GET /api/contacts, before the first connection: each large group's newest gseq, where
 *                      a tab that knows nothing starts (the snapshot already counts what came before)
 *   follow(message)    a join in the user's own timeline (it has a seq): a system message created or added
 *                      naming me, or the group's switch to large: that message's gseq
 *   take(event)        a group's event moves its cursor on by one; a gap event to the group's newest
 *   adopt(next)        a poll's answer says where the server left each group (groups_next): taken whole
 * A removal keeps the cursor: the server follows it up to the removal (what was said before it is still
 * mine, however late I poll), then a poll's groups_next drops it; a re-join starts from the later of it and
 * the join, so a resume from seq 0 (a new tab replays its whole timeline) never rewinds a group to an old join
 * and replays it again.
 * Kept in sessionStorage beside the seq: a reload resumes too.
 */
export class GroupCursors {
  constructor(uid) {
    this.storageKey = `imdemo.gseq.${uid}`;
    this.uid = uid;
    this.at = new Map();  // gid -> the highest gseq processed
    try {
      for (const [gid, gseq] of Object.entries(JSON.parse(sessionStorage.getItem(this.storageKey)) || {})) {
        this.at.set(Number(gid), Number(gseq));
      }
    } catch {
      // nothing kept, or not ours to read: the snapshot's newest it is
    }
  }

  get(gid) {
    return this.at.get(Number(gid));
  }

  /** The cursors to start from: for each large group the snapshot names, the one this tab kept (a reload),
   * else the group's newest; a kept one of a group no longer named is dropped. */
  start(groupsSeq = {}) {
    const kept = this.at;
    this.at = new Map(Object.entries(groupsSeq).map(([gid, newest]) => [Number(gid), kept.get(Number(gid)) ?? newest]));
    this.save();
  }

  /** Whether a large group's event (a message or a gap, by its gseq) is new; move the cursor past it.
   * One at or below the cursor was processed already (a retransmission, an overlap after a reconnect);
   * one past a gap waits for the one before it, which the server sends again (the ACK does not cover it).
   * A group this tab holds no cursor for starts at the event: the server follows only groups I am in. */
  take(event) {
    const held = this.get(event.group);
    if (event.type === 'gap') {
      if (held !== undefined && event.gseq <= held) return false;
    } else if (held !== undefined && (event.gseq <= held || event.gseq > held + 1)) {
      return false;
    }
    this.at.set(Number(event.group), event.gseq);
    return true;
  }

  /** A message of the user's own timeline that makes me follow a large group: my join, or the switch. */
  follow(message) {
    const event = message.event;
    if (message.kind !== 'system' || !event || message.group === undefined) return;
    const joined = event.uids.includes(this.uid) || (event.type === 'created' && event.by === this.uid);
    if (!(joined && (event.type === 'created' || event.type === 'added')) && event.type !== 'large') return;
    this.at.set(Number(message.group), Math.max(this.get(message.group) ?? 0, message.gseq));
  }

  /** The server's own cursors after a poll answer (every large group it followed, joins included). */
  adopt(groupsNext) {
    this.at = new Map(Object.entries(groupsNext).map(([gid, gseq]) => [Number(gid), gseq]));
  }

  /** For GET /api/sync: `gid:gseq,gid:gseq`. */
  query() {
    return [...this.at].map(([gid, gseq]) => `${gid}:${gseq}`).join(',');
  }

  /** For the WebSocket's hello: {"gid": gseq}. */
  hello() {
    return Object.fromEntries([...this.at].map(([gid, gseq]) => [String(gid), gseq]));
  }

  save() {
    sessionStorage.setItem(this.storageKey, JSON.stringify(this.hello()));
  }
}
