/** Pages: a worker that hashes one file (sha256.js) off the page's thread and tells how far it has come:
 * {file} in, {done: bytes} as it goes, then {sha256}. */
import {hashBlob} from './sha256.js';

self.onmessage = async ({data}) => {
  const sha256 = await hashBlob(data.file, (done) => self.postMessage({done}));
  self.postMessage({sha256});
};
