import t from 'tap'
import { scrub } from '../../../../src/logging/scrubber.js'

// Through scrub(), as every caller meets these rules: the shaped values go first.
t.test('addresses and postcodes', async t => {
  const cases: Array<[string, string]> = [
    ['ship it to 1428 Elm Street, Springfield, IL 62704', 'ship it to [ADDRESS], [ADDRESS], [POSTCODE]'],
    ['I live at 22 Baker Street, London NW1 6XE', 'I live at [ADDRESS], [ADDRESS] [POSTCODE]'],
    ['it is 14 Wexcombe Lane, Little Harrowden NN9 5BT', 'it is [ADDRESS], [ADDRESS] [POSTCODE]'],
    ['my postcode is SW1A 1AA, why not?', 'my postcode is [POSTCODE], why not?'],
    ['postcode ec1a1bb', 'postcode [POSTCODE]'],
    ['Meine Adresse ist Hauptstraße 12, 10115 Berlin', 'Meine Adresse ist [ADDRESS], [POSTCODE] Berlin'],
    ['bitte an Musterstr. 5a, 80331 München', 'bitte an [ADDRESS], [POSTCODE] München'],
    ['mon adresse: 12 rue de la Paix, 75002 Paris', 'mon adresse: [ADDRESS], [POSTCODE] Paris'],
    ['vivo en Calle de Alcalá 48, 28014 Madrid', 'vivo en [ADDRESS], [POSTCODE] Madrid'],
    ['abito in Via Roma 10, 00184 Roma', 'abito in [ADDRESS], [POSTCODE] Roma'],
    ['mijn adres is Kerkstraat 14, 1017 GC Amsterdam', 'mijn adres is [ADDRESS], [POSTCODE] Amsterdam'],
    ["I'm in Ottawa, K1A 0B1, is delivery free?", "I'm in Ottawa, [POSTCODE], is delivery free?"],
    ['new address: Flat 3, 15 Queen\'s Road, Bristol BS8 1QU', 'new address: [ADDRESS], [ADDRESS], [ADDRESS] [POSTCODE]']
  ]
  for (const [input, expected] of cases) t.equal(scrub(input), expected, input)
})

t.test('numbers and places that are no address', async t => {
  for (const text of ['ticket ID 88213 has been open for two weeks', 'I have 4096 MB RAM', 'is the Oxford Street store open',
    'tried 3 times on the drive', 'do you ship 10000 units to Berlin', 'my order 2024-03-12 from Via Roma']) t.equal(scrub(text), text, text)
})
