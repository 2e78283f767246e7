/** Pages: the words of the lab's timeline rows that say what a request or an answer carried (timeline-rows.js
 * adds what is remarkable about it): a poll's since and large-group cursors, what its answer brought, a
 * large group's event or ACK by its gseq. Data (seqs, gseqs, gids, URLs) sits in <code>, the words come
 * from the tables. */
import {code, phrase} from './dom.js';

/** What a poll's answer brought: each large group's gseqs (or its gap), its own messages' seqs, else the
 * hints it carried, and its next cursor. */
export function answerLabel(batch, seqs) {
  const next = code(batch.next);
  const groups = groupsLabel(batch.events);
  let own;
  if (seqs.length === 1) own = phrase('lab.row.events', {first: code(seqs[0]), next});
  else if (seqs.length) own = phrase('lab.row.events_range', {first: code(seqs[0]), last: code(seqs.at(-1)), next});
  else if (groups.length) own = phrase('lab.row.next', {next});
  else {
    const hints = [...new Set(batch.events.map((event) => event.type))];
    own = hints.length ? phrase('lab.row.hints', {types: code(hints.join(', ')), next}) : phrase('lab.row.nothing', {next});
  }
  return [...groups, ...own];
}

/** "g7 gseq 4–6 · " for each large group an answer brought events of, in the order they came. */
function groupsLabel(events) {
  const byGroup = new Map();
  for (const event of events.filter((e) => e.gseq !== undefined)) {
    if (!byGroup.has(event.group)) byGroup.set(event.group, []);
    byGroup.get(event.group).push(event);
  }
  return [...byGroup].flatMap(([gid, list]) => {
    const group = code(`g${gid}`);
    const gap = list.find((event) => event.type === 'gap');
    const [first, last] = [list[0].gseq, list.at(-1).gseq];
    const part = gap ? phrase('lab.row.events_gap', {group, after: code(gap.after), gseq: code(gap.gseq)})
      : phrase(first === last ? 'lab.row.events_group' : 'lab.row.events_group_range',
        {group, first: code(first), last: code(last)});
    return [...part, ' · '];
  });
}

export function gseqLabel(what, {group, gseq}) {
  return phrase('lab.row.gseq', {what: code(what), group: code(`g${group}`), gseq: code(gseq)});
}

export function gseqKey({group, gseq}) {
  return `g${group}:${gseq}`;
}

/** A GET /api/sync as it left: its since, its large groups' cursors, how long it may wait. */
export function pollLabel({since, timeout, groups}) {
  const params = {what: code('GET /api/sync'), since: code(since), groups: code(groups), timeout};
  return phrase(`lab.row.since${groups ? '_groups' : ''}${timeout ? '_wait' : ''}`, params);
}
