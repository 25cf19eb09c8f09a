import Type, { type Static } from 'typebox';

export const ITEM_NAME_MAX_LENGTH = 200;

export const ItemSchema = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  name: Type.String(),
  createdAt: Type.String({ format: 'date-time' }),
});
export type Item = Static<typeof ItemSchema>;

export const CreateItemSchema = Type.Object(
  {
    name: Type.String({
      description: `trimmed, then 1 to ${ITEM_NAME_MAX_LENGTH} characters`,
      examples: ['first'],
    }),
  },
  { additionalProperties: false },
);

export const ListItemsQuerySchema = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'page size' }),
  after: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'return items whose id is greater than this',
    }),
  ),
});
export type ListItemsQuery = Static<typeof ListItemsQuerySchema>;

export const ItemParamsSchema = Type.Object({
  id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
});
