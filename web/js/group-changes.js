/** Pages: my own changes to a group: rename it, add people, remove someone, leave. Each is asked of the
 * server, then shown at once from its answer, as the membership change it made: the system message
 * that says so comes through the sync loop too, up to a poll interval later on short polling, and
 * applying it again changes nothing (group-conversation.js). A failure is thrown to the caller. */
import {groupKey} from './conversation.js';

export class GroupChanges {
  constructor(store) {
    this.store = store;
    this.api = store.api;
  }

  async rename(gid, name) {
    const {group} = await this.api.renameGroup(gid, name);
    this.store.applyOwnChange(groupKey(gid), {type: 'renamed', name: group.name});
  }

  /** Add people; their names and roles come with the member list, asked for again at once. */
  async add(gid, uids) {
    await this.api.addMembers(gid, uids);
    this.store.loadGroup(gid);
  }

  async remove(gid, uid) {
    await this.api.removeMember(gid, uid);
    this.store.applyOwnChange(groupKey(gid), {type: 'removed', uids: [uid]});
  }

  async leave(gid) {
    await this.api.removeMember(gid, this.store.me.uid);
    this.store.applyOwnChange(groupKey(gid), {type: 'left', uids: [this.store.me.uid]});
  }
}
