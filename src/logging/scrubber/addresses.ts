// Street addresses and postcodes as users write them in English and the common European forms:
// a house number and a street with its type ("1428 Elm Street", "Hauptstraße 12", "12 rue de la
// Paix", "Via Roma 10"), and the postcodes that have a shape of their own (the UK's, Canada's, a US
// state and ZIP) or stand beside an address, a town or the word for a postcode.
import { anyOf } from './cues.js'

const STREET_TYPES = [
  'Street', 'St', 'Avenue', 'Ave', 'Road', 'Rd', 'Boulevard', 'Blvd', 'Lane', 'Ln', 'Drive', 'Dr', 'Court', 'Ct',
  'Place', 'Pl', 'Terrace', 'Way', 'Close', 'Crescent', 'Square', 'Sq', 'Parkway', 'Pkwy', 'Highway', 'Hwy', 'Circle',
  'Cir', 'Gardens', 'Grove', 'Row', 'Mews', 'Hill', 'Walk', 'Park'
]
const CAPITALISED = String.raw`\p{Lu}[\p{L}'’.-]{0,40}`
const EN_STREET = new RegExp(
  String.raw`\b\d{1,5}[A-Za-z]?,?[ \t]+(?:[NSEW]\.?[ \t]+)?` +
  String.raw`(?:(?:${CAPITALISED}|\d{1,4}(?:st|nd|rd|th))[ \t]+){1,3}(?:${anyOf(STREET_TYPES)})\b\.?`, 'gu')
// In lower case, with the commonest types only ("88 w 34th st"): "drive" or "way" would find "2
// external hard drive".
const EN_STREET_LOWER = new RegExp(String.raw`\b\d{1,5}[a-z]?[ \t]+(?:[nsew][ \t]+)?` +
  String.raw`(?:(?!(?:the|a|an|to|for|of|on|in|my|your|and|or)\b)[a-z\d][a-z\d'’.-]{0,30}[ \t]+){1,2}` +
  String.raw`(?:street|st|avenue|ave|road|rd|boulevard|blvd)\b\.?`, 'gu')
// German, Dutch, Nordic: the street type ends the name, the number follows ("Hauptstraße 12",
// "Kerkstraat 14").
const SUFFIXES = [
  'straße', 'strasse', String.raw`str\.`, 'gasse', 'weg', 'allee', 'platz', 'ring', 'damm', 'ufer', 'chaussee', 'steig',
  'pfad', 'markt', 'straat', 'laan', 'plein', 'gracht', 'kade', 'dijk', 'singel', 'steeg', 'gata', 'vej', 'gade'
]
const SUFFIX_STREET = new RegExp(
  String.raw`\b\p{Lu}[\p{L}-]{0,40}?(?:${anyOf(SUFFIXES)})[ \t]+\d{1,4}[ \t]?[a-z]?\b`, 'gu')
// French: number, then the street type and its name ("12 rue de la Paix").
const FR_TYPES = [
  'rue', 'avenue', String.raw`av\.`, 'boulevard', 'bd', 'place', 'allée', 'chemin', 'impasse', 'quai', 'cours', 'route',
  'square'
]
const FR_STREET = new RegExp(String.raw`\b\d{1,4}(?:[ \t]?(?:bis|ter))?,?[ \t]+(?:${anyOf(FR_TYPES)})[ \t]+` +
  String.raw`(?:(?:de la|de l['’]|des|du|de|d['’]|la|le|l['’])[ \t]*)?` +
  String.raw`[\p{L}'’-]{1,40}(?:[ \t]+\p{Lu}[\p{L}'’-]{0,40}){0,3}`, 'giu')
// Spanish, Italian, Portuguese, Polish: the street type, its name, then the number ("Via Roma 10",
// "ul. Marszałkowska 84/92").
const LATIN_TYPES = [
  '[Cc]alle', 'C/', '[Aa]venida', String.raw`[Aa]vda\.?`, '[Pp]aseo', '[Pp]laza', '[Cc]arrer', '[Cc]amino', '[Vv]ia',
  '[Vv]iale', '[Pp]iazza', '[Cc]orso', '[Ll]argo', '[Vv]icolo', '[Rr]ua', '[Tt]ravessa', String.raw`ul\.`, 'ulica',
  String.raw`al\.`, 'aleja', String.raw`os\.`
]
const LATIN_STREET = new RegExp(
  String.raw`\b(?:${anyOf(LATIN_TYPES)})[ \t]+(?:(?:de la|del|de|dei|della|delle|di|da|do|dos|das)[ \t]+)?` +
  String.raw`\p{Lu}[\p{L}'’-]{0,40}(?:[ \t]+(?:\p{Lu}[\p{L}'’-]{0,40}|de|del|di)){0,4}?` +
  String.raw`,?[ \t]*(?:n\.?[ºo°]?[ \t]*)?\d{1,4}(?:\/\d{1,4})?\b`, 'gu')
const UNIT = /\b(?:Apt|Apartment|Suite|Unit|Flat|Wohnung|apt|apartment|suite|flat)\.?[ \t]*#?\d{1,4}[A-Za-z]?\b/gu

// Postcodes with a shape of their own: the UK's and Canada's, written in capitals.
const UK_POSTCODE = /\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b/g
const CA_POSTCODE = /\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d\b/g
// A US state and ZIP code after the town or a comma: "Springfield, IL 62704" ("ticket ID 88213" is
// no address in Idaho). The look-ahead first, so that the look-behind runs only where one follows.
const US_STATES = 'A[LKZR]|C[AOT]|D[EC]|FL|GA|HI|I[DLNA]|K[SY]|LA|M[EDAINSOT]|N[EVHJMYCD]|O[HKR]|PA|RI|S[CD]|T[NX]|' +
  'UT|V[TA]|W[AVIY]'
const US_ZIP = new RegExp(
  String.raw`\b(?=(?:${US_STATES})[ \t]+\d{5})(?<=(?:,|\p{Lu}\p{Ll}{1,30})[ \t]{0,3})` +
  String.raw`(?:${US_STATES})[ \t]+\d{5}(?:-\d{4})?\b`, 'gu')
// Any postcode a few words after the word for one, in any case: "PLZ 10115", "at my postcode yet?
// its m14 5rt".
const POSTCODE_WORDS = [
  'post ?code', 'postal code', 'zip(?: code)?', 'plz', 'postleitzahl', 'code postal', 'código postal', 'codigo postal',
  'cap', String.raw`c\.p\.`, 'kod pocztowy'
]
const NAMED_POSTCODE = new RegExp(String.raw`\b(?:${anyOf(POSTCODE_WORDS)})[ \t:?,]*` +
  String.raw`(?:(?:is|yet|its|it['’]s|ist|est|es|è|my|mine|here|now)[ \t:?,]+){0,3}` +
  String.raw`(?=[A-Z0-9])([A-Z0-9]{2,5}(?:[ -]?[A-Z0-9]{2,4})?)\b`, 'giu')
// A Dutch postcode before its town ("3511 LN Utrecht"); a town, not a unit in capitals ("4096 MB RAM").
const NL_POSTCODE = /\b[1-9]\d{3}[ \t]?(?!SA|SD|SS)[A-Z]{2}(?=[ \t]+\p{Lu}\p{Ll})/gu
// Five digits before a town, after a word that says where: "do you deliver to 10437 Berlin".
const CODE_BEFORE_TOWN = /\b(?=\d{5}[ \t])(?<=\b(?:to|in|at|near|nach|bei|à|en|a|em|w|te|naar|per)[ \t]{1,3}|,[ \t]{0,3})\d{5}(?=[ \t]+\p{Lu}\p{Ll}{2,})/gu
// A code just after an address: ", 10115 Berlin", "1017 GC Amsterdam", "ny 10001", "00-514 Warszawa",
// "1100-048 Lisboa".
const CODE_AFTER_ADDRESS = /(\[ADDRESS\][^\n]{0,60}?)\b(?:\d{4,5}(?:[ \t]?[A-Z]{2}(?=[ \t,]))?|\d{2}-\d{3}|\d{4}-\d{3})\b/gu

// The town between a street and its postcode ("14 Wexcombe Lane, Little Harrowden NN9 5BT"), which
// with them points at a house.
const TOWN_BETWEEN = /(?<=\[ADDRESS\],?[ \t]{1,3})(?:\p{Lu}[\p{L}'’.-]{0,30}[ \t]+){0,2}\p{Lu}[\p{L}'’.-]{0,30}(?=,?[ \t]{1,3}\[POSTCODE\])/gu

export function scrubAddresses (text: string): string {
  let result = text
  for (const street of [EN_STREET, EN_STREET_LOWER, SUFFIX_STREET, FR_STREET, LATIN_STREET, UNIT]) {
    result = result.replace(street, '[ADDRESS]')
  }
  for (const code of [US_ZIP, UK_POSTCODE, CA_POSTCODE, NL_POSTCODE, CODE_BEFORE_TOWN]) {
    result = result.replace(code, '[POSTCODE]')
  }
  result = result.replace(NAMED_POSTCODE, (match, code: string) =>
    /\d/.test(code) ? match.replace(code, '[POSTCODE]') : match)
  return result
    .replace(CODE_AFTER_ADDRESS, (_match, before: string) => `${before}[POSTCODE]`)
    .replace(TOWN_BETWEEN, '[ADDRESS]')
}
