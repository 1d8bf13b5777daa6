import { describe, expect, it } from 'vitest';
import { maskSecretsIn, maskUrl, plainHttpHost, splitCredentials, urlWithoutCredentials } from '../../src/index-url.js';

describe('maskUrl', () => {
  it('masks the password and keeps the rest readable', () => {
    expect(maskUrl('https://user:token@host.example/simple')).toBe('https://user:***@host.example/simple');
    expect(maskUrl('http://user:secret@172.17.0.1:3141/simple/')).toBe('http://user:***@172.17.0.1:3141/simple/');
  });

  it('masks a user name given alone (a token as the user)', () => {
    expect(maskUrl('https://glpat-abc123@gitlab.example/api/simple')).toBe('https://***@gitlab.example/api/simple');
  });

  it('leaves a URL without credentials as it is', () => {
    expect(maskUrl('https://pypi.org/simple')).toBe('https://pypi.org/simple');
  });

  it('masks what looks like credentials in text that is not a URL', () => {
    expect(maskUrl('ftp//user:secret@host')).not.toContain('secret');
    expect(maskUrl('http://user:secret@')).not.toContain('secret');
  });
});

describe('urlWithoutCredentials and splitCredentials', () => {
  it('drops the user and password', () => {
    expect(urlWithoutCredentials('https://user:token@host.example/simple')).toBe('https://host.example/simple');
  });

  it('turns credentials into a Basic authorization header, decoded', () => {
    const split = splitCredentials('http://user:p%40ss@127.0.0.1:8080/simple');
    expect(split.url).toBe('http://127.0.0.1:8080/simple');
    expect(split.authorization).toBe(`Basic ${Buffer.from('user:p@ss').toString('base64')}`);
    expect(splitCredentials('https://pypi.org/simple')).toEqual({ url: 'https://pypi.org/simple' });
  });
});

describe('plainHttpHost', () => {
  it('names the host of an http:// URL only', () => {
    expect(plainHttpHost('http://user:secret@10.0.0.5:3141/simple')).toBe('10.0.0.5');
    expect(plainHttpHost('https://mirror.example/simple')).toBeUndefined();
  });
});

describe('maskSecretsIn', () => {
  it('masks the password wherever an installer printed it, raw or decoded', () => {
    const text = 'Looking in indexes: http://user:p%40ss@host/simple\nauth p@ss failed';
    const masked = maskSecretsIn(text, ['http://user:p%40ss@host/simple']);
    expect(masked).not.toContain('p%40ss');
    expect(masked).not.toContain('p@ss');
    expect(masked).toContain('user');
  });
});
