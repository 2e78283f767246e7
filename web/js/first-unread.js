/** Pages: where a conversation opens. Without unread messages, on its newest page. With some, on the first
 * of them, under a "new messages" line (message-list.js): the page from my read mark on (a few messages above
 * it for context), with the newer pages below it loaded as the reader scrolls down (chat-view.js). It is read
 * from the read mark, not counted back from the newest message: what is unread counts only the others'
 * messages, so my own replies in between would put the count's first unread in the wrong place. What is
 * unread and where my read mark lies come from the contacts (GET /api/contacts: unread, read_mid). */
const CONTEXT = 10;  // messages above the first unread
const MOST = 100;  // the history API's largest page

/** Load the first page of a conversation: {page: {messages, has_more, ...marks}, hasNewer, firstUnread}. */
export async function landingPage(api, key, {unread = 0, readMid = 0, me}, size) {
  if (unread > 0) {
    const [before, after] = await Promise.all([api.history(key, {before: readMid + 1, limit: CONTEXT}),
      api.history(key, {after: readMid, limit: MOST})]);
    const page = {...after, messages: [...before.messages, ...after.messages], has_more: before.has_more};
    return {page, hasNewer: after.has_more, firstUnread: firstUnreadOf(after.messages, readMid, me)};
  }
  return {page: await api.history(key, {limit: size}), hasNewer: false, firstUnread: null};
}

/** The first message past the read mark that counts as unread: someone else's, not a system line, not
 * recalled. */
function firstUnreadOf(messages, readMid, me) {
  return messages.find((m) => m.mid > readMid && m.from !== me && m.kind !== 'system'
    && m.recalled_by === undefined) || null;
}
