// Numbers that identify a person: a date after a word saying whose birth it is, a number after the
// name of an identity document or of a customer scheme (a railcard, a membership), the document
// numbers with a check or shape of their own (a UK National Insurance number, a Spanish DNI, an
// Italian codice fiscale, a UK driving licence), and a vehicle plate after the word for one.
import { anyOf } from './cues.js'

const MONTHS = [
  'jan(?:uary)?', 'feb(?:ruary)?', 'mar(?:ch)?', 'apr(?:il)?', 'may', 'june?', 'july?', 'aug(?:ust)?',
  'sept?(?:ember)?', 'oct(?:ober)?', 'nov(?:ember)?', 'dec(?:ember)?', 'januar', 'februar', 'märz', 'mai', 'juni',
  'juli', 'oktober', 'dezember', 'janvier', 'février', 'mars', 'avril', 'juin', 'juillet', 'août', 'septembre',
  'octobre', 'novembre', 'décembre', 'enero', 'febrero', 'marzo', 'abril', 'mayo', 'junio', 'julio', 'agosto',
  'septiembre', 'octubre', 'noviembre', 'diciembre', 'gennaio', 'febbraio', 'aprile', 'maggio', 'giugno', 'luglio',
  'settembre', 'ottobre', 'dicembre', 'januari', 'februari', 'maart', 'mei', 'augustus'
]
const MONTH = `(?:${anyOf(MONTHS)})`
const DATE = anyOf([
  String.raw`\d{1,2}[./-]\d{1,2}[./-]\d{2,4}`,
  String.raw`\d{4}-\d{1,2}-\d{1,2}`,
  String.raw`\d{1,2}(?:st|nd|rd|th|er|º)?\.?[ \t]+(?:of[ \t]+|de[ \t]+)?${MONTH}\.?,?[ \t]+(?:de[ \t]+)?\d{4}`,
  String.raw`${MONTH}\.?[ \t]+\d{1,2}(?:st|nd|rd|th)?,?[ \t]+\d{4}`
])
const BIRTH_CUES = [
  'date of birth', 'birth ?date', String.raw`d\.?o\.?b\.?`, 'born(?:[ \t]+(?:on|in))?', 'birthday(?:[ \t]+is)?',
  'geburtsdatum', 'geboren(?:[ \t]+am)?', 'née?(?:[ \t]+le)?', 'date de naissance', 'fecha de nacimiento',
  'nacid[oa](?:[ \t]+el)?', 'data di nascita', 'nat[oa](?:[ \t]+il)?', 'geboortedatum', 'geboren op',
  'data de nascimento', 'nascid[oa] em', 'data urodzenia', 'urodzon[ya]'
]
const DATE_OF_BIRTH = new RegExp(
  String.raw`\b(${anyOf(BIRTH_CUES)})((?:[ \t]+(?:is|was|ist|est|es|è))?[ \t]*:?[ \t]*)(?:${DATE})`, 'giu')

// Not a bare "ID": "ticket ID 88213" is no one's document.
const DOCUMENTS = [
  'passport', 'reisepass', 'passeport', 'pasaporte', 'passaporto', 'paspoort', 'paszport', 'passaporte',
  "driver['’]?s licen[cs]e", 'driving licen[cs]e', 'licen[cs]e number', 'führerschein', 'permis de conduire', 'id card',
  'id number', 'identity card', 'identity number', 'national id', 'personalausweis(?:nummer)?', 'ausweis(?:nummer)?',
  "carte d['’]identité", 'dni', 'nie', 'nif', 'nir', 'insee', 'numéro de sécurité sociale', 'sécu', 'codice fiscale',
  'bsn', 'burgerservicenummer', 'national insurance', 'ni number', 'ni no', 'nino', 'social security', 'ssn', 'tax id',
  'tin', 'steuer-?id', 'steueridentifikationsnummer', 'steuernummer', 'numéro fiscal', 'pesel', 'nip', 'dowód osobisty',
  'cartão de cidadão', 'cc', 'número de contribuinte', 'nss', 'número de la seguridad social'
]
const NUMBER_WORDS = String.raw`(?:[ \t]+(?:number|no\.?|nr\.?|num(?:ber)?|nummer|numéro|número|numero|#))?` +
  String.raw`(?:[ \t]+(?:is|was|ist|est|es|è))?`
const DOCUMENT_NUMBER = new RegExp(
  String.raw`\b((?:${anyOf(DOCUMENTS)})${NUMBER_WORDS}[ \t]*[:#]?[ \t]*)([A-Z0-9][A-Z0-9 -]{3,22}[A-Z0-9])`, 'giu')
// A customer's number with a scheme: a card or ticket named by its kind, with or without "number"
// ("my railcard 6331 0042 9981 2234", which no Luhn check finds), and a membership, customer,
// account or policy only with the word for a number ("customer 2 days ago" is no one's).
const SCHEME_CARDS = [
  'railcard', 'season ticket', 'loyalty card', 'rewards card', 'club ?card', 'library card', 'bahncard', 'oyster card',
  'membership card', 'member card', 'student card', 'frequent flyer', 'kundenkarte', 'carte de fidélité'
]
const SCHEME_HOLDERS = [
  'membership', 'member', 'customer', 'account', 'policy', 'student', 'patient', 'loyalty', 'kunden', 'mitglieds',
  'versicherten', 'adhérent', 'client', 'socio'
]
const SCHEME_NUMBER = new RegExp(
  String.raw`\b((?:(?:${anyOf(SCHEME_CARDS)})${NUMBER_WORDS}|(?:${anyOf(SCHEME_HOLDERS)})[ \t]*-?` +
  String.raw`(?:number|no\.?|nr\.?|num|id|nummer|numéro|número|numero|#)(?:[ \t]+(?:is|was|ist|est|es|è))?)` +
  String.raw`[ \t]*[:#]?[ \t]*)([A-Z0-9][A-Z0-9 -]{3,22}[A-Z0-9])`, 'giu')
const NINO = /\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/g
const DNI = /\b[XYZ]?\d{7,8}[A-Z]\b/g
const CODICE_FISCALE = /\b[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z]\b/gi
const UK_DRIVING_LICENCE = /\b[A-Z9]{5}\d{6}[A-Z9]{2}\d[A-Z]{2}\b/g

const PLATE_WORDS = [
  'licen[cs]e plate', 'number plate', 'plate number', 'plate', 'registration(?: number)?',
  String.raw`(?:car )?reg(?:istration)?(?: number| no\.?)?`, 'car', 'kennzeichen', 'nummernschild',
  "plaque d['’]immatriculation", 'immatriculation', 'plaque', 'matrícula', 'matricula', 'targa', 'kenteken'
]
const PLATE = new RegExp(
  String.raw`\b((?:${anyOf(PLATE_WORDS)})(?:[ \t]+(?:is|was|ist|est|es|è|number))?[ \t]*:?[ \t]*)` +
  String.raw`([A-Z0-9]{1,8}(?:[ -][A-Z0-9]{1,8}){0,3})\b`, 'giu')

/** The Spanish DNI's letter is its number mod 23 (a NIE's leading X, Y, Z stand for 0, 1, 2). */
function dniValid (value: string): boolean {
  const digits = value.replace(/^X/, '0').replace(/^Y/, '1').replace(/^Z/, '2')
  return 'TRWAGMYFPDXBNJZSQVHLCKE'[Number(digits.slice(0, -1)) % 23] === digits.slice(-1)
}

/** The leading groups of a candidate that are capitals and digits: "X1234567 expires" keeps the number. */
function leadingGroups (candidate: string, separator: RegExp): string {
  let kept = ''
  for (const group of candidate.split(separator)) {
    if (!/^[ -]?[A-Z0-9][A-Z0-9-]*$/.test(group)) break
    kept += group
  }
  return kept
}

function documentNumber (match: string, cue: string, candidate: string): string {
  const kept = leadingGroups(candidate, /(?=[ ])/)
  // A word after the number ("passport X1234567 EXPIRED") ends it, as a lower-case one does.
  const number = kept.split(/(?=[ ])/)
    .filter((group, i) => i === 0 || /\d/.test(group) || group.trim().length <= 3)
    .join('')
  return /\d/.test(number) && number.replace(/\W/g, '').length >= 5
    ? `${cue}[ID_NUMBER]${candidate.slice(number.length)}`
    : match
}

function plate (match: string, cue: string, candidate: string): string {
  const kept = leadingGroups(candidate, /(?=[ -])/)
  // After "car", only a plate's whole shape: "my car A4" is a model.
  const long = kept.replace(/\W/g, '').length >= (/car\b/i.test(cue) ? 5 : 2)
  return /\d/.test(kept) && /[A-Z]/.test(kept) && long ? `${cue}[PLATE]${candidate.slice(kept.length)}` : match
}

export function scrubDocuments (text: string): string {
  return text.replace(DATE_OF_BIRTH, (_match, cue: string, joint: string) => `${cue}${joint}[DATE_OF_BIRTH]`)
    .replace(DOCUMENT_NUMBER, documentNumber)
    .replace(SCHEME_NUMBER, documentNumber)
    .replace(NINO, '[ID_NUMBER]').replace(CODICE_FISCALE, '[ID_NUMBER]').replace(UK_DRIVING_LICENCE, '[ID_NUMBER]')
    .replace(DNI, match => dniValid(match) ? '[ID_NUMBER]' : match)
    .replace(PLATE, plate)
}
