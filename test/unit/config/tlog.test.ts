import { expect } from 'chai';
import {
  Configuration,
  TlogError,
  applyTlog,
  decodeTlogLine,
  dumpTlog,
  encodeTlogLine,
  parseTlog,
} from '../../../src/config/index.js';

// A tlog in the Java nucleus's format (written for this test, in the shape of NUC UT/config/*.tlog).
const JAVA_TLOG = [
  '{"TS":1,"TP":["system","rootpath"],"W":"changed","V":"/greengrass/v2"}',
  '{"TS":1700000000000,"TP":["services","aws.greengrass.Nucleus","configuration","awsRegion"],"W":"changed","V":"us-west-2"}',
  '{"TS":1700000000100,"TP":["services","HelloWorld","lifecycle","run"],"W":"changed","V":"echo hello\\nsleep 1"}',
  '{"TS":1700000000100,"TP":["services","HelloWorld","lifecycle","shutdown"],"W":"changed","V":"echo bye"}',
  '{"TS":1700000000100,"TP":["services","HelloWorld","dependencies"],"W":"changed","V":["aws.greengrass.Nucleus", "other"]}',
  '{"TS":1700000000200,"TP":["services","main","dependencies"],"W":"changed","V":[]}',
  '{"TS":1700000000300,"TP":["services","helloworld","LIFECYCLE","shutdown"],"W":"removed"}',
  '{"TS":1700000000400,"TP":["services","HelloWorld","runtime"],"W":"interiorAdded"}',
  '{"TS":1700000000500,"TP":["services","HelloWorld","version"],"W":"changed","V":"1.0.0"}',
  '{"TS":1700000000900,"TP":["services","HelloWorld","version"],"W":"timestampUpdated","V":"1.0.0"}',
  '{"TS":1700000000600,"TP":["services","FleetStatusService","sequenceNumber"],"W":"changed","V":12345678901234567890}',
  '{"TS":1600000000000,"TP":["services","HelloWorld","version"],"W":"changed","V":"0.9.0"}',
  '{"TS":1700000000700,"TP":["services","_AUTHENTICATION_TOKENS","ABC"],"W":"changed","V":"HelloWorld"}',
  '',
].join('\n');

describe('tlog format and replay', () => {
  it('[CF-09][CF-11] a tlog in the Java nucleus format loads with the replay rules', () => {
    const c = new Configuration();
    const parsed = parseTlog(Buffer.from(JAVA_TLOG), 'config.tlog');
    expect(parsed.lines).to.have.length(13);
    applyTlog(c, parsed.lines);
    expect(c.get(['services', 'HelloWorld'])).to.deep.equal({
      lifecycle: { run: 'echo hello\nsleep 1' },
      dependencies: ['aws.greengrass.Nucleus', 'other'],
      runtime: {},
      version: '1.0.0', // the older 0.9.0 line lost (newer wins)
    });
    expect(c.findLeaf(['services', 'HelloWorld', 'version'])!.modtime).to.equal(1700000000900);
    expect(c.get(['system', 'rootpath'])).to.equal('/greengrass/v2');
    expect(c.findLeaf(['system', 'rootpath'])!.modtime).to.equal(1);
  });

  it('[CF-13] 64-bit integers survive parse and re-encode exactly', () => {
    const c = new Configuration();
    applyTlog(c, parseTlog(Buffer.from(JAVA_TLOG)).lines);
    expect(c.get(['services', 'FleetStatusService', 'sequenceNumber'])).to.equal(12345678901234567890n);
    const again = new Configuration();
    applyTlog(again, parseTlog(Buffer.from(dumpTlog(c))).lines);
    expect(again.get(['services', 'FleetStatusService', 'sequenceNumber'])).to.equal(12345678901234567890n);
    expect(
      decodeTlogLine('{"TS":1,"TP":["a"],"W":"changed","V":[-9223372036854775808, 1.5e300]}').value,
    ).to.deep.equal([-9223372036854775808n, 1.5e300]);
  });

  it('[CF-09] lines encode as {"TS","TP","W","V"}; removed and interiorAdded carry no V', () => {
    expect(encodeTlogLine({ ts: 5, path: ['a', 'b'], what: 'changed', value: 'x' })).to.equal(
      '{"TS":5,"TP":["a","b"],"W":"changed","V":"x"}',
    );
    expect(encodeTlogLine({ ts: 5, path: ['a'], what: 'removed' })).to.equal(
      '{"TS":5,"TP":["a"],"W":"removed"}',
    );
    expect(encodeTlogLine({ ts: 5, path: ['a'], what: 'interiorAdded' })).to.equal(
      '{"TS":5,"TP":["a"],"W":"interiorAdded"}',
    );
  });

  it('[CF-07] the dump holds no memory-only nodes and round-trips the rest', () => {
    const c = new Configuration({ clock: () => 42 });
    applyTlog(c, parseTlog(Buffer.from(JAVA_TLOG)).lines);
    const dump = dumpTlog(c);
    expect(dump).to.not.contain('_AUTHENTICATION_TOKENS');
    const back = new Configuration();
    applyTlog(back, parseTlog(Buffer.from(dump)).lines);
    const expected = c.toMap();
    delete (expected.services as Record<string, unknown>)._AUTHENTICATION_TOKENS;
    expect(back.toMap()).to.deep.equal(expected);
  });

  it('[CF-12] validation: empty, NUL-filled and unparsable files are invalid, naming the line', () => {
    expect(() => parseTlog(Buffer.alloc(0), 'f')).to.throw(TlogError, /f: the file is empty/);
    expect(() => parseTlog(Buffer.alloc(4096), 'f')).to.throw(TlogError, /NUL bytes/);
    const withNuls = Buffer.concat([Buffer.from(JAVA_TLOG), Buffer.alloc(100)]);
    expect(() => parseTlog(withNuls, 'f')).to.throw(TlogError, /NUL bytes/);
    const bad = JAVA_TLOG.replace('"W":"removed"', '"W":"deleted"');
    expect(() => parseTlog(Buffer.from(bad), 'f')).to.throw(TlogError, /f:7: W must be one of/);
    expect(() =>
      parseTlog(
        Buffer.from('{"TS":1,"TP":["a"],"W":"changed"}\nnot json\n{"TS":1,"TP":["b"],"W":"changed"}\n'),
        'f',
      ),
    ).to.throw(TlogError, /f:2: not JSON/);
    expect(() => parseTlog(Buffer.from('{"TS":"1","TP":["a"],"W":"changed"}\n'), 'f')).to.throw(
      TlogError,
      /f:1: TS must be a number/,
    );
    expect(() => parseTlog(Buffer.from('{"TS":1,"TP":[],"W":"changed"}\n'), 'f')).to.throw(
      TlogError,
      /f:1: TP must be/,
    );
    expect(() => parseTlog(Buffer.from('[1]\n'), 'f')).to.throw(
      TlogError,
      /f:1: a line must be a JSON object/,
    );
    expect(() => parseTlog(Buffer.from('{"TS":1,"TP":["a"],"W":"cha'), 'f')).to.throw(
      TlogError,
      /no complete line/,
    );
  });

  it('an unterminated unparsable tail is a torn, unacknowledged write: dropped, with the valid length reported', () => {
    const torn = JAVA_TLOG + '{"TS":17,"TP":["a"],"W":"chan';
    const p = parseTlog(Buffer.from(torn));
    expect(p.tornTail).to.equal(true);
    expect(p.validBytes).to.equal(Buffer.byteLength(JAVA_TLOG));
    expect(p.lines).to.have.length(13);
    const noNl = parseTlog(Buffer.from(JAVA_TLOG.trimEnd()));
    expect(noNl.missingFinalNewline).to.equal(true);
    expect(noNl.lines).to.have.length(13);
  });
});
