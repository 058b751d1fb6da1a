import { Type } from 'typebox';

// One schema per thing: these validate requests, type the handlers, and become the OpenAPI
// components (and so the SDK's types).

// Examples for the OpenAPI document (the lint checks each against its schema).
const exampleUser = { id: '5b1d2f7e-8c44-4a8e-b0e3-6f2a9c1d7e55', email: 'ada@example.com', name: 'Ada', createdAt: '2026-11-27T09:15:02.114Z' };
const exampleTokens = {
  sessionId: '0f8c3a52-6a4b-4d3e-9a51-2c7f1e0b9d44',
  accessToken: 'eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCIsImtpZCI6ImYzYTFjMmQ0In0.eyJzdWIiOiI1YjFkIn0.c2lnbmF0dXJl',
  refreshToken: 'rt_0f8c3a526a4b4d3e.Zk9yRXhhbXBsZU9ubHk',
  tokenType: 'Bearer',
  expiresIn: 900,
};

export const User = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String({ format: 'email' }),
    name: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'User', additionalProperties: false, examples: [exampleUser] },
);

const Email = Type.String({ format: 'email', maxLength: 254, description: 'Compared case-insensitively.' });

export const RegisterBody = Type.Object(
  {
    email: Email,
    // Length is checked by the password policy (with a clear message); here only a hard upper
    // bound so no request can make the hasher chew on megabytes.
    password: Type.String({ maxLength: 1024, description: 'At least 8 and at most 128 characters.' }),
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { $id: 'RegisterRequest', additionalProperties: false, examples: [{ email: 'ada@example.com', password: 'correct horse battery staple', name: 'Ada' }] },
);

export const LoginBody = Type.Object(
  {
    email: Type.String({ maxLength: 254 }),
    password: Type.String({ maxLength: 1024 }),
  },
  { $id: 'LoginRequest', additionalProperties: false, examples: [{ email: 'ada@example.com', password: 'correct horse battery staple' }] },
);

export const RefreshBody = Type.Object(
  {
    refreshToken: Type.Optional(
      Type.String({ minLength: 1, maxLength: 512, description: 'Required unless the refresh token travels in the HttpOnly cookie (browser transport).' }),
    ),
  },
  { $id: 'RefreshRequest', additionalProperties: false, examples: [{ refreshToken: exampleTokens.refreshToken }, {}] },
);

const tokenFields = {
  sessionId: Type.String({ format: 'uuid' }),
  accessToken: Type.String({ description: 'JWT (EdDSA), sent as Authorization: Bearer.' }),
  refreshToken: Type.Optional(
    Type.String({ description: 'Opaque; exchange at POST /auth/refresh. Single use. Absent when the browser (cookie) transport was asked for.' }),
  ),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'Access token lifetime in seconds.' }),
};

export const TokenPair = Type.Object(tokenFields, { $id: 'TokenPair', additionalProperties: false, examples: [exampleTokens] });

export const AuthResult = Type.Object(
  { user: Type.Unsafe<{ id: string; email: string; name: string | null; createdAt: string }>({ $ref: 'User#' }), ...tokenFields },
  { $id: 'AuthResult', additionalProperties: false, examples: [{ user: exampleUser, ...exampleTokens }] },
);

export const Me = Type.Object(
  { user: Type.Unsafe<{ id: string; email: string; name: string | null; createdAt: string }>({ $ref: 'User#' }), sessionId: Type.String({ format: 'uuid' }) },
  { $id: 'Me', additionalProperties: false, examples: [{ user: exampleUser, sessionId: exampleTokens.sessionId }] },
);

export const authSchemas = [User, RegisterBody, LoginBody, RefreshBody, TokenPair, AuthResult, Me];
