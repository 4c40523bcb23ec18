"""Name, address and company pools per country for the demo CRM, and small text helpers.

Pure data: nothing here draws random numbers or touches a database. E-mail domains are all under the
reserved ``.test`` top-level domain, named like real mail providers so that a provider's "looks fake"
filter accepts them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Locale:
    """Everything needed to invent a plausible person or company in one country.

    Templates: ``#`` is a random digit, ``@`` a random capital letter.
    """

    country: str
    weight: int
    languages: tuple[str, ...]
    female_first_names: tuple[str, ...]
    male_first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    cities: tuple[tuple[str, str], ...]  # (city, postal-code template)
    streets: tuple[str, ...]
    street_format: str  # with {street} and {number}
    phone_template: str
    mail_domains: tuple[str, ...]
    company_words: tuple[str, ...]
    legal_form: str


INTERNATIONAL_MAIL_DOMAINS = ("gmail.test", "outlook.test", "hotmail.test", "icloud.test", "proton.test")

# Deliberately fake-looking addresses on reserved example domains: providers reject these, and the demo
# should show that rejection recorded per contact.
FAKE_LOCAL_PARTS = ("test", "info", "noreply", "admin", "sales", "office")
FAKE_DOMAINS = ("example.com", "example.org", "example.net")

LOCALES: tuple[Locale, ...] = (
    Locale(
        "NL", 30, ("nl", "nl", "nl", "en"),
        ("Zoë", "Lotte", "Fleur", "Sanne", "Noëlle", "Anouk", "Eline", "Joëlle", "Iris", "Femke", "Lieke",
         "Marieke", "Inge", "Chantal"),
        ("Daan", "Sem", "Bram", "Thijs", "Jeroen", "Ruben", "Maarten", "Sven", "Stijn", "Joost", "Gijs",
         "Wouter", "Hendrik", "Kees"),
        ("van den Brink", "de Vries", "Jansen", "van Dijk", "Bakker", "Visser", "Smit", "de Jong",
         "van der Meer", "Mulder", "de Boer", "Willemsen", "van 't Hof", "Hoekstra", "Brouwer", "van Beek",
         "IJzerman", "Kuipers", "Dekker", "Vermeulen", "Schoenmaker", "ter Horst"),
        (("Amsterdam", "10## @@"), ("Rotterdam", "30## @@"), ("Utrecht", "35## @@"), ("Den Haag", "25## @@"),
         ("Groningen", "97## @@"), ("Eindhoven", "56## @@"), ("Zwolle", "80## @@"),
         ("'s-Hertogenbosch", "52## @@"), ("Leeuwarden", "89## @@"), ("Maastricht", "62## @@")),
        ("Prinsengracht", "Kerkstraat", "Dorpsstraat", "Stationsweg", "Julianalaan", "Molenweg",
         "Beatrixstraat", "Oude Gracht", "Lindenlaan", "Vondelstraat"),
        "{street} {number}", "+31 6 #### ####",
        ("ziggo.test", "kpn-mail.test", "xs4all.test", "hetnet.test", "planet.test"),
        ("Installatietechniek", "Bouw", "Advies", "Bloemen", "Fietsen", "Accountants", "Makelaardij"),
        "B.V.",
    ),
    Locale(
        "BE", 10, ("nl", "nl", "fr"),
        ("Lien", "Hélène", "Elise", "Anaïs", "Nathalie", "Griet", "Inès", "Ann", "Sofie"),
        ("Wout", "Jef", "Maxime", "Thibaut", "Pieter", "Koen", "Arnaud", "Loïc", "Dries"),
        ("Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens", "Wouters",
         "De Smet", "Lambert", "Dubois", "Van Damme", "Hermans", "Vandenbroucke"),
        (("Brussel", "10#0"), ("Antwerpen", "20#0"), ("Gent", "90#0"), ("Leuven", "30#0"), ("Liège", "40#0"),
         ("Brugge", "80#0"), ("Namur", "50#0")),
        ("Grote Markt", "Kerkstraat", "Rue de la Station", "Meir", "Veldstraat", "Avenue Louise"),
        "{street} {number}", "+32 4## ## ## ##",
        ("telenet.test", "skynet.test", "proximus.test"),
        ("Brouwerij", "Bouwwerken", "Consult", "Chocolaterie", "Transport"),
        "BV",
    ),
    Locale(
        "DE", 15, ("de",),
        ("Käthe", "Anna-Lena", "Mareike", "Jana", "Friederike", "Bärbel", "Ulrike", "Sophie", "Lea", "Hanna"),
        ("Jürgen", "Sören", "Björn", "Jörg", "Lukas", "Günther", "Tobias", "Maximilian", "Heiko", "Jonas"),
        ("Müller", "Schäfer", "Weiß", "Groß", "Schröder", "Köhler", "Bauer", "Fischer", "Wagner", "Becker",
         "Hoffmann", "Schulz", "Krüger", "Vogel", "Jäger", "Zimmermann", "Meyer-Lübke"),
        (("Berlin", "10###"), ("Hamburg", "20###"), ("München", "80###"), ("Köln", "50###"),
         ("Düsseldorf", "40###"), ("Leipzig", "04###"), ("Münster", "48###"), ("Nürnberg", "90###")),
        ("Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Gartenweg", "Lindenallee", "Am Markt",
         "Goethestraße", "Königsallee"),
        "{street} {number}", "+49 1## #######",
        ("gmx.test", "web-de.test", "t-online.test", "freenet.test"),
        ("Logistik", "Bäckerei", "Maschinenbau", "Steuerberatung", "Elektrotechnik", "Gartenbau"),
        "GmbH",
    ),
    Locale(
        "FR", 12, ("fr",),
        ("Émilie", "Hélène", "Chloé", "Gaëlle", "Léa", "Céline", "Anaïs", "Maëlys", "Amélie", "Sévérine"),
        ("Jérôme", "François", "Mathéo", "Benoît", "Timothée", "Raphaël", "Noé", "Loïc", "Gérard", "Hervé"),
        ("Lefèvre", "Dubois", "Martin", "Bernard", "Moreau", "Girard", "Fournier", "Rousseau", "Faure",
         "Mercier", "Chevalier", "Lemaître", "Gauthier", "Bélanger", "Durand", "Pérès"),
        (("Paris", "750##"), ("Lyon", "6900#"), ("Marseille", "130##"), ("Toulouse", "310##"),
         ("Nantes", "440##"), ("Lille", "590##"), ("Strasbourg", "670##"), ("Besançon", "250##")),
        ("rue de la République", "avenue Jean Jaurès", "rue Victor Hugo", "boulevard Saint-Michel",
         "place de l'Église", "rue des Écoles"),
        "{number} {street}", "+33 6 ## ## ## ##",
        ("orange.test", "free-fr.test", "laposte.test", "sfr.test"),
        ("Boulangerie", "Transports", "Conseil", "Menuiserie", "Pharmacie"),
        "SARL",
    ),
    Locale(
        "ES", 8, ("es",),
        ("María", "Begoña", "Lucía", "Sofía", "Inés", "Nuria", "Pilar", "Ainhoa", "Mónica"),
        ("José", "Iñigo", "Álvaro", "Andrés", "Raúl", "Joaquín", "Óscar", "Jesús", "Martín"),
        ("García", "Martínez", "Núñez", "Peña", "Fernández", "López", "Sánchez", "Pérez", "Gómez",
         "Jiménez", "Muñoz", "Álvarez", "Romero", "Ibáñez", "Castaño"),
        (("Madrid", "280##"), ("Barcelona", "080##"), ("Valencia", "460##"), ("Sevilla", "410##"),
         ("Bilbao", "480##"), ("Málaga", "290##"), ("A Coruña", "150##")),
        ("Calle Mayor", "Avenida de la Constitución", "Calle del Sol", "Paseo de Gràcia", "Calle Real"),
        "{street}, {number}", "+34 6## ### ###",
        ("movistar.test", "telefonica.test", "ono.test"),
        ("Consultores", "Construcciones", "Distribuciones", "Panadería", "Asesores"),
        "S.L.",
    ),
    Locale(
        "PL", 8, ("pl",),
        ("Małgorzata", "Agnieszka", "Zofia", "Katarzyna", "Ewa", "Aleksandra", "Magdalena", "Żaneta"),
        ("Łukasz", "Paweł", "Wojciech", "Michał", "Grzegorz", "Jędrzej", "Bartłomiej", "Stanisław"),
        ("Wójcik", "Nowak", "Lewandowski", "Zieliński", "Szymański", "Woźniak", "Dąbrowski", "Kozłowski",
         "Jankowski", "Mazur", "Krawczyk", "Piotrowski", "Grabowski", "Pawłowski", "Wróbel"),
        (("Warszawa", "0#-###"), ("Kraków", "3#-###"), ("Łódź", "9#-###"), ("Wrocław", "5#-###"),
         ("Poznań", "6#-###"), ("Gdańsk", "80-###"), ("Białystok", "15-###")),
        ("ul. Marszałkowska", "ul. Długa", "ul. Świętokrzyska", "ul. Piłsudskiego", "ul. Kościuszki"),
        "{street} {number}", "+48 ### ### ###",
        ("wp.test", "onet.test", "interia.test", "o2-pl.test"),
        ("Budownictwo", "Transport", "Usługi", "Piekarnia", "Doradztwo"),
        "Sp. z o.o.",
    ),
    Locale(
        "SE", 7, ("sv", "sv", "en"),
        ("Åsa", "Linnéa", "Märta", "Ingrid", "Elin", "Ebba", "Sigrid", "Maja"),
        ("Björn", "Måns", "Göran", "Oskar", "Per", "Håkan", "Jöns", "Nils"),
        ("Lindqvist", "Johansson", "Andersson", "Åkesson", "Öberg", "Nilsson", "Ström", "Bergström",
         "Sjöberg", "Lindström", "Ekström", "Holmgren"),
        (("Stockholm", "11# ##"), ("Göteborg", "41# ##"), ("Malmö", "21# ##"), ("Uppsala", "75# ##"),
         ("Västerås", "72# ##"), ("Örebro", "70# ##")),
        ("Storgatan", "Drottninggatan", "Kungsgatan", "Skolgatan", "Västra Hamngatan"),
        "{street} {number}", "+46 7# ### ## ##",
        ("telia.test", "bredband.test", "spray.test"),
        ("Bygg", "Konsult", "Trä", "Bageri", "Transport"),
        "AB",
    ),
    Locale(
        "GB", 10, ("en",),
        ("Amelia", "Isla", "Freya", "Imogen", "Niamh", "Aoife", "Siobhán", "Chloë"),
        ("Oliver", "Harry", "George", "Jack", "Rhys", "Seán", "Callum", "Dafydd"),
        ("Smith", "Jones", "Taylor", "Brown", "O'Brien", "Williams", "Evans", "Davies", "Thomas", "Robinson",
         "Wright", "MacDonald", "O'Neill", "Ffion-Hughes"),
        (("London", "SW# #@@"), ("Manchester", "M# #@@"), ("Bristol", "BS# #@@"), ("Leeds", "LS# #@@"),
         ("Cardiff", "CF## #@@"), ("Edinburgh", "EH# #@@")),
        ("High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane"),
        "{number} {street}", "+44 7### ######",
        ("btinternet.test", "sky-mail.test", "virginmedia.test"),
        ("Builders", "Consulting", "Bakery", "Logistics", "Garden Centre"),
        "Ltd",
    ),
)

# Letters that Unicode decomposition does not reduce to ASCII.
_ASCII_SPECIALS = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "æ": "ae", "Æ": "AE",
                                 "œ": "oe", "Œ": "OE", "đ": "d", "Đ": "D", "ı": "i"})
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def ascii_slug(text: str, separator: str = "") -> str:
    """Lower-case ASCII of ``text`` for e-mail local parts and domains: "Łukasz" -> "lukasz"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_ASCII_SPECIALS))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char)).lower()
    return _NOT_SLUG.sub(separator, plain).strip(separator)


def female_form(last_name: str, country: str) -> str:
    """Polish surnames ending in -ski/-cki/-dzki take -ska/-cka/-dzka for women."""
    if country == "PL" and last_name.endswith("ki"):
        return last_name[:-1] + "a"
    return last_name

# The region (province, state, Bundesland, …) of each demo city, as real CRMs keep it beside the city.
REGIONS = {
    "Amsterdam": "Noord-Holland", "Rotterdam": "Zuid-Holland", "Utrecht": "Utrecht", "Den Haag": "Zuid-Holland",
    "Groningen": "Groningen", "Eindhoven": "Noord-Brabant", "Zwolle": "Overijssel",
    "'s-Hertogenbosch": "Noord-Brabant", "Leeuwarden": "Friesland", "Maastricht": "Limburg",
    "Brussel": "Brussels Hoofdstedelijk Gewest", "Antwerpen": "Antwerpen", "Gent": "Oost-Vlaanderen",
    "Leuven": "Vlaams-Brabant", "Liège": "Liège", "Brugge": "West-Vlaanderen", "Namur": "Namur",
    "Berlin": "Berlin", "Hamburg": "Hamburg", "München": "Bayern", "Köln": "Nordrhein-Westfalen",
    "Düsseldorf": "Nordrhein-Westfalen", "Leipzig": "Sachsen", "Münster": "Nordrhein-Westfalen",
    "Nürnberg": "Bayern", "Paris": "Île-de-France", "Lyon": "Auvergne-Rhône-Alpes",
    "Marseille": "Provence-Alpes-Côte d'Azur", "Toulouse": "Occitanie", "Nantes": "Pays de la Loire",
    "Lille": "Hauts-de-France", "Strasbourg": "Grand Est", "Besançon": "Bourgogne-Franche-Comté",
    "Madrid": "Comunidad de Madrid", "Barcelona": "Cataluña", "Valencia": "Comunitat Valenciana",
    "Sevilla": "Andalucía", "Bilbao": "País Vasco", "Málaga": "Andalucía", "A Coruña": "Galicia",
    "Warszawa": "mazowieckie", "Kraków": "małopolskie", "Łódź": "łódzkie", "Wrocław": "dolnośląskie",
    "Poznań": "wielkopolskie", "Gdańsk": "pomorskie", "Białystok": "podlaskie", "Stockholm": "Stockholms län",
    "Göteborg": "Västra Götalands län", "Malmö": "Skåne län", "Uppsala": "Uppsala län",
    "Västerås": "Västmanlands län", "Örebro": "Örebro län", "London": "Greater London",
    "Manchester": "Greater Manchester", "Bristol": "Bristol", "Leeds": "West Yorkshire", "Cardiff": "Cardiff",
    "Edinburgh": "City of Edinburgh",
}
