import { Type } from 'typebox';

export const PasswordResetRequest = Type.Object(
  { email: Type.String({ format: 'email', maxLength: 254, description: 'Compared case-insensitively.' }) },
  { $id: 'PasswordResetRequest', additionalProperties: false },
);

export const PasswordResetAccepted = Type.Object(
  { message: Type.String() },
  { $id: 'PasswordResetAccepted', additionalProperties: false },
);

export const PasswordResetConfirm = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 256, description: 'The `token` query parameter of the reset link.' }),
    // Length is checked by the password policy (with a clear message); here only a hard bound.
    newPassword: Type.String({ maxLength: 1024, description: 'At least 8 and at most 128 characters (the sign-up policy).' }),
  },
  { $id: 'PasswordResetConfirm', additionalProperties: false },
);

export const passwordResetSchemas = [PasswordResetRequest, PasswordResetAccepted, PasswordResetConfirm];
