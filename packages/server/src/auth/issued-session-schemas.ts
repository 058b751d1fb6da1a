import { Type } from 'typebox';

export const EmailParams = Type.Object(
  { email: Type.String({ format: 'email', maxLength: 254, description: 'The user\'s email (percent-encoded in the path); compared case-insensitively.' }) },
  { additionalProperties: false },
);

export const ProvisionUserRequest = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    externalId: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: "The application's own id for the user; unique." })),
  },
  { $id: 'ProvisionUserRequest', additionalProperties: false },
);

/**
 * How the user signed in, as the application's backend names it: lowercase words, digits and
 * `_ . : -`, e.g. `oauth:google`, `saml`, `magic_link`. `password` is refused: it means that
 * sessiond itself checked a password (the access token's `amr` says `pwd`), which it did not.
 */
export const AuthMethod = Type.String({
  pattern: '^(?!password$)[a-z0-9][a-z0-9_.:-]{0,63}$',
  description: 'How the user signed in (e.g. `oauth:google`, `oauth:github`, `saml`, `magic_link`); not `password`.',
});

export const IssueSessionRequest = Type.Object(
  {
    ipAddress: Type.Union([Type.String({ format: 'ipv4' }), Type.String({ format: 'ipv6' }), Type.Null()], {
      description: "The end user's IP address as the application's backend saw it.",
    }),
    userAgent: Type.Union([Type.String({ maxLength: 1024 }), Type.Null()], { description: "The end user's User-Agent (kept to 512 characters)." }),
    authMethod: AuthMethod,
  },
  { $id: 'IssueSessionRequest', additionalProperties: false },
);

export const issuedSessionSchemas = [ProvisionUserRequest, IssueSessionRequest];
