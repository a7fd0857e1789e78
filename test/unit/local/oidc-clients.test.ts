/** The local issuer's client registry: exact redirect URIs, loopback-only http, CORS origins. */
import { describe, expect, it } from 'vitest';
import { ClientRegistrationError, ClientRegistry, webConsoleClient } from '../../../infra/local/oidc/clients';

describe('webConsoleClient', () => {
  it('registers the gateway root under 127.0.0.1 and localhost', () => {
    expect(webConsoleClient('http://127.0.0.1:4000').redirectUris).toEqual([
      'http://127.0.0.1:4000/',
      'http://localhost:4000/',
    ]);
    expect(
      webConsoleClient('https://vend.example.com/', ['https://vend.example.com/cb']).redirectUris,
    ).toEqual(['https://vend.example.com/', 'https://vend.example.com/cb']);
  });
});

describe('ClientRegistry', () => {
  const clients = new ClientRegistry([webConsoleClient('http://127.0.0.1:4000')]);

  it('matches redirect URIs exactly, never as prefixes', () => {
    expect(clients.allowsRedirect('vend-web', 'http://127.0.0.1:4000/')).toBe(true);
    expect(clients.allowsRedirect('vend-web', 'http://127.0.0.1:4000')).toBe(false);
    expect(clients.allowsRedirect('vend-web', 'http://127.0.0.1:4000/x')).toBe(false);
    expect(clients.allowsRedirect('vend-web', 'HTTP://127.0.0.1:4000/')).toBe(false);
    expect(clients.allowsRedirect('other', 'http://127.0.0.1:4000/')).toBe(false);
  });

  it('allows browser origins of registered redirect URIs only', () => {
    expect(clients.allowsOrigin('http://127.0.0.1:4000')).toBe(true);
    expect(clients.allowsOrigin('http://localhost:4000')).toBe(true);
    expect(clients.allowsOrigin('http://127.0.0.1:4001')).toBe(false);
    expect(clients.allowsOrigin('null')).toBe(false);
  });

  it.each([
    ['http://vend.example.com/', /https/],
    ['https://vend.example.com/#x', /fragment/],
    ['/relative', /absolute/],
    ['https://u:p@vend.example.com/', /credentials/],
  ])('refuses to register %s', (uri, message) => {
    expect(() => new ClientRegistry([{ clientId: 'x', redirectUris: [uri] }])).toThrow(message);
  });

  it('refuses a malformed client id and a client without redirect URIs', () => {
    expect(() => clients.register({ clientId: 'a b', redirectUris: ['https://x.example/'] })).toThrow(
      ClientRegistrationError,
    );
    expect(() => clients.register({ clientId: 'ok', redirectUris: [] })).toThrow(ClientRegistrationError);
  });
});
