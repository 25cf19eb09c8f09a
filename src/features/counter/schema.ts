import Type from 'typebox';

export const CounterSchema = Type.Object({
  counter: Type.Integer({ minimum: 0, description: 'cameras left in stock', examples: [1000] }),
});
