import t from 'tap'
import { scrub } from '../../../../src/logging/scrubber.js'

// Through scrub(), as every caller meets these rules: the shaped values go first.
t.test('dates of birth, identity documents and plates', async t => {
  const cases: Array<[string, string]> = [
    ['my date of birth is 14/03/1987', 'my date of birth is [DATE_OF_BIRTH]'],
    ['DOB: 1990-07-22', 'DOB: [DATE_OF_BIRTH]'],
    ['I was born on March 3, 1979 if you need it', 'I was born on [DATE_OF_BIRTH] if you need it'],
    ['Geburtsdatum: 5. Mai 1992', 'Geburtsdatum: [DATE_OF_BIRTH]'],
    ['my passport number is 533380006', 'my passport number is [ID_NUMBER]'],
    ['passport no. X1234567, expires next year', 'passport no. [ID_NUMBER], expires next year'],
    ['my national insurance number is QQ 12 34 56 C', 'my national insurance number is [ID_NUMBER]'],
    ['DNI 12345678Z', 'DNI [ID_NUMBER]'],
    ['il mio codice fiscale è RSSMRA85T10A562S', 'il mio codice fiscale è [ID_NUMBER]'],
    ['my licence plate is AB12 CDE, the fine is wrong', 'my licence plate is [PLATE], the fine is wrong'],
    ['Kennzeichen B-MK 1234', 'Kennzeichen [PLATE]'],
    // A customer scheme's number, which no check digit finds (a railcard's 16 digits fail Luhn).
    ['My railcard number is 6331 0042 9981 2234', 'My railcard number is [ID_NUMBER]'],
    ['my season ticket number is ST-4481-2290-7713, it stopped working', 'my season ticket number is [ID_NUMBER], it stopped working'],
    ['membership no. 88213406 expired', 'membership no. [ID_NUMBER] expired'],
    ['Customer ID: CU-99812', 'Customer ID: [ID_NUMBER]'],
    ['my account number is 12345678, sort code later', 'my account number is [ID_NUMBER], sort code later'],
    ['library card no. L29104471', 'library card no. [ID_NUMBER]'],
    ['Kundennummer: K-4711-0815', 'Kundennummer: [ID_NUMBER]']
  ]
  for (const [input, expected] of cases) t.equal(scrub(input), expected, input)
})

t.test('ids that identify no one are left alone', async t => {
  for (const text of ['ticket ID 88213', 'my car A4 makes a noise', 'event registration is closed', 'software licence key renewal',
    'passport photo requirements', 'born in the 90s', 'customer 2 days ago', 'my account 2024 report', 'member since 2019',
    'my account number isn\'t shown on the new invoice layout', 'season ticket prices for 2026']) t.equal(scrub(text), text, text)
})
