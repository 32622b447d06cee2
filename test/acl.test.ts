import { describe, expect, it } from 'vitest';
import { AclInputError, aclForSource, parseAclValue } from '../src/engine/acl.js';
import { configSchema } from '../src/engine/config.js';

describe('parseAclValue: a source ACL is used as given or refused, never defaulted', () => {
  it('accepts a principal or a list of them', () => {
    expect(parseAclValue('public')).toEqual({ acl: ['public'] });
    expect(parseAclValue([' group:hr ', 'user:alice'])).toEqual({ acl: ['group:hr', 'user:alice'] });
  });
  it.each([[[]], [null], [''], ['  ']])('refuses the empty value %j', (v) => {
    expect(parseAclValue(v)).toMatchObject({ error: expect.stringMatching(/^empty ACL/) });
  });
  it('refuses invalid principals, non-strings, and several principals in one string (with the list to write)', () => {
    expect(parseAclValue(['group:hr', 'grp:hr'])).toMatchObject({ error: 'invalid principal "grp:hr"' });
    expect(parseAclValue(['group:a', 7])).toMatchObject({ error: expect.stringMatching(/principal string or a list/) });
    expect(parseAclValue({ group: 'hr' })).toMatchObject({ error: expect.stringMatching(/principal string or a list/) });
    expect(parseAclValue('group:hr, user:x')).toEqual({ error: 'one string holds several principals ("group:hr, user:x")', fix: 'write them as a list: [group:hr, user:x]' });
    expect(parseAclValue('group:hr user:x')).toMatchObject({ fix: 'write them as a list: [group:hr, user:x]' });
  });
});

describe('aclForSource', () => {
  const config = configSchema.parse({ acl: { default: ['group:staff'], rules: [{ match: 'hr/**', acl: ['group:hr'] }] } });
  it('takes the source ACL, else the first matching rule, else the default', () => {
    expect(aclForSource(config, 'hr/a.md', { acl: ['user:bob', 'user:bob'] }).acl).toEqual(['user:bob']);
    expect(aclForSource(config, 'hr/a.md', {}).acl).toEqual(['group:hr']);
    expect(aclForSource(config, 'x.md', {}).acl).toEqual(['group:staff']);
  });
  it('throws AclInputError for an empty or invalid source ACL instead of using a rule or the default', () => {
    expect(() => aclForSource(config, 'x.md', { acl: [] })).toThrow(AclInputError);
    expect(() => aclForSource(config, 'hr/a.md', { acl: [] })).toThrow(/^hr\/a\.md: empty ACL/);
    expect(() => aclForSource(config, 'x.md', { acl: ['grp:hr'] })).toThrow(/invalid principal "grp:hr"/);
  });
});
