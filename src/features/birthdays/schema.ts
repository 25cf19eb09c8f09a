import Type from 'typebox';

export const USERNAME_PATTERN = '^\\p{L}{1,64}$';

export const UsernameParamsSchema = Type.Object({
  username: Type.String({
    pattern: USERNAME_PATTERN,
    description: 'letters only (any alphabet), 1 to 64 of them',
    examples: ['alice'],
  }),
});

export const SaveBirthdaySchema = Type.Object(
  {
    dateOfBirth: Type.String({
      format: 'date',
      description: 'a real calendar date as YYYY-MM-DD, before today',
      examples: ['1990-05-17'],
    }),
  },
  { additionalProperties: false },
);

export const GreetingSchema = Type.Object({
  message: Type.String({ examples: ['Hello, alice! Your birthday is in 5 days'] }),
});
