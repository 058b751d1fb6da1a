import { Type } from 'typebox';
import { ref } from '../http/problem.ts';
import { EmailString, StoredString } from '../http/text-schemas.ts';

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

const Email = EmailString({ format: 'email', description: 'Compared case-insensitively.' });

export const RegisterBody = Type.Object(
  {
    email: Email,
    // Length is checked by the password policy (with a clear message); here only a hard upper
    // bound so no request can make the hasher chew on megabytes.
    password: Type.String({ maxLength: 1024, description: 'At least 8 and at most 128 characters.' }),
    name: Type.Optional(StoredString({ minLength: 1, maxLength: 200 })),
  },
  { $id: 'RegisterRequest', additionalProperties: false, examples: [{ email: 'ada@example.com', password: 'correct horse battery staple', name: 'Ada' }] },
);

export const LoginBody = Type.Object(
  {
    // No format check here: any string gets the same 401 as a wrong password; only characters no
    // email can hold (controls, NUL) are a 400.
    email: EmailString(),
    password: Type.String({ maxLength: 1024 }),
  },
  { $id: 'LoginRequest', additionalProperties: false, examples: [{ email: 'ada@example.com', password: 'correct horse battery staple' }] },
);

// Like the sign-in's password field: a hard upper bound only; the policy says the rest.
const CurrentPassword = Type.String({ maxLength: 1024, description: 'The account\'s current password.' });

export const ChangePasswordBody = Type.Object(
  {
    currentPassword: CurrentPassword,
    newPassword: Type.String({ maxLength: 1024, description: 'The same policy as at sign-up: 8 to 128 characters, not a common password.' }),
  },
  { $id: 'ChangePasswordRequest', additionalProperties: false },
);

export const DeleteAccountBody = Type.Object({ password: CurrentPassword }, { $id: 'DeleteAccountRequest', additionalProperties: false });

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
  accessToken: Type.String({ description: 'JWT (EdDSA), sent as `Authorization: Bearer`, or for a key-bound session (tokenType DPoP) as `Authorization: DPoP` with a DPoP proof.' }),
  refreshToken: Type.Optional(
    Type.String({ description: 'Opaque; exchange at POST /auth/refresh. Single use. Absent when the browser (cookie) transport was asked for.' }),
  ),
  tokenType: Type.Union([Type.Literal('Bearer'), Type.Literal('DPoP')], { description: 'DPoP when the session is bound to the key of the request\'s DPoP proof (RFC 9449).' }),
  expiresIn: Type.Integer({ description: 'Access token lifetime in seconds.' }),
};

export const TokenPair = Type.Object(tokenFields, { $id: 'TokenPair', additionalProperties: false, examples: [exampleTokens] });

export const AuthResult = Type.Object(
  { user: ref(User), ...tokenFields },
  { $id: 'AuthResult', additionalProperties: false, examples: [{ user: exampleUser, ...exampleTokens }] },
);

export const Me = Type.Object(
  { user: ref(User), sessionId: Type.String({ format: 'uuid' }) },
  { $id: 'Me', additionalProperties: false, examples: [{ user: exampleUser, sessionId: exampleTokens.sessionId }] },
);

export const authSchemas = [User, RegisterBody, LoginBody, ChangePasswordBody, DeleteAccountBody, RefreshBody, TokenPair, AuthResult, Me];
