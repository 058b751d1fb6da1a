import { Type } from 'typebox';
import { EmailString, StoredString } from '../http/text-schemas.ts';

// One schema per thing: these validate requests, type the handlers, and become the OpenAPI
// components (and so the SDK's types).

export const User = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    email: Type.String({ format: 'email' }),
    name: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'User', additionalProperties: false },
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
  { $id: 'RegisterRequest', additionalProperties: false },
);

export const LoginBody = Type.Object(
  {
    // No format check here: any string gets the same 401 as a wrong password; only characters no
    // email can hold (controls, NUL) are a 400.
    email: EmailString(),
    password: Type.String({ maxLength: 1024 }),
  },
  { $id: 'LoginRequest', additionalProperties: false },
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
  { $id: 'RefreshRequest', additionalProperties: false },
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

export const TokenPair = Type.Object(tokenFields, { $id: 'TokenPair', additionalProperties: false });

export const AuthResult = Type.Object(
  { user: Type.Unsafe<{ id: string; email: string; name: string | null; createdAt: string }>({ $ref: 'User#' }), ...tokenFields },
  { $id: 'AuthResult', additionalProperties: false },
);

export const Me = Type.Object(
  { user: Type.Unsafe<{ id: string; email: string; name: string | null; createdAt: string }>({ $ref: 'User#' }), sessionId: Type.String({ format: 'uuid' }) },
  { $id: 'Me', additionalProperties: false },
);

export const authSchemas = [User, RegisterBody, LoginBody, ChangePasswordBody, DeleteAccountBody, RefreshBody, TokenPair, AuthResult, Me];
