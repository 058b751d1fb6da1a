import { Type, type Static } from 'typebox';

/**
 * GET /.well-known/jwks.json: the public keys that verify access tokens (RFC 7517). Keys are
 * Ed25519 (OKP) today; other members a JWK may carry are kept (additionalProperties), so the
 * serializer never drops a field a verifier needs.
 */
export const Jwks = Type.Object(
  {
    keys: Type.Array(
      Type.Object(
        {
          kty: Type.String({ description: 'Key type, e.g. OKP.' }),
          kid: Type.String({ description: 'Key id: the `kid` header of the tokens it verifies.' }),
          alg: Type.Optional(Type.String({ description: 'Algorithm, e.g. EdDSA.' })),
          use: Type.Optional(Type.String({ description: 'Always `sig`.' })),
          crv: Type.Optional(Type.String({ description: 'Curve, e.g. Ed25519.' })),
          x: Type.Optional(Type.String({ description: 'Public key (base64url).' })),
        },
        { additionalProperties: true },
      ),
    ),
  },
  {
    examples: [{ keys: [{ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo', kid: 'f3a1c2d4e5b6a7c8', alg: 'EdDSA', use: 'sig' }] }],
  },
);
export type JwksDocument = Static<typeof Jwks>;
