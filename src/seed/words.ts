/** Word lists for the demo data: names, places, companies, products. Plain data, no logic. */

export const FIRST_NAMES: readonly string[] = [
  'James', 'Mary', 'John', 'Patricia', 'Robert', 'Jennifer', 'Michael', 'Linda', 'William', 'Elizabeth',
  'David', 'Barbara', 'Richard', 'Susan', 'Joseph', 'Jessica', 'Thomas', 'Sarah', 'Charles', 'Karen',
  'Christopher', 'Nancy', 'Daniel', 'Lisa', 'Matthew', 'Betty', 'Anthony', 'Margaret', 'Mark', 'Sandra',
  'Donald', 'Ashley', 'Steven', 'Kimberly', 'Paul', 'Emily', 'Andrew', 'Donna', 'Joshua', 'Michelle',
  'Kenneth', 'Dorothy', 'Kevin', 'Carol', 'Brian', 'Amanda', 'George', 'Melissa', 'Edward', 'Deborah',
  'Ronald', 'Stephanie', 'Timothy', 'Rebecca', 'Jason', 'Sharon', 'Jeffrey', 'Laura', 'Ryan', 'Cynthia',
  'Jacob', 'Kathleen', 'Gary', 'Amy', 'Nicholas', 'Shirley', 'Eric', 'Angela', 'Stephen', 'Helen',
  'Jonathan', 'Anna', 'Larry', 'Brenda', 'Justin', 'Pamela', 'Scott', 'Nicole', 'Brandon', 'Samantha',
  'José', 'Zoë', 'Chloé', 'Björn', 'Mei', 'Priya', 'Ahmed', 'Olga', 'Renée', 'Seán',
];

/** Surnames starting with S, drawn often so that `startswith(LastName,'S')` matches a large share. */
export const S_LAST_NAMES: readonly string[] = [
  'Smith', 'Sanchez', 'Scott', 'Stewart', 'Sullivan', 'Sanders', 'Simmons', 'Stevens', 'Spencer', 'Snyder',
  'Shaw', 'Simpson', 'Stone', 'Schmidt', 'Sutton', 'Soto', 'Salazar', 'Silva', 'Santos', 'Sharp',
  'Schneider', 'Shelton', 'Strickland', 'Swanson', 'Sims', "Shaughnessy", 'Sørensen',
];

export const LAST_NAMES: readonly string[] = [
  'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez',
  'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin', 'Lee',
  'Perez', 'Thompson', 'White', 'Harris', 'Clark', 'Ramirez', 'Lewis', 'Robinson', 'Walker', 'Young',
  'Allen', 'King', 'Wright', 'Torres', 'Nguyen', 'Hill', 'Flores', 'Green', 'Adams', 'Nelson',
  'Baker', 'Hall', 'Rivera', 'Campbell', 'Mitchell', 'Carter', 'Roberts', 'Gomez', 'Phillips', 'Evans',
  'Turner', 'Diaz', 'Parker', 'Cruz', 'Edwards', 'Collins', 'Reyes', 'Morris', 'Murphy', 'Cook',
  "O'Brien", 'McDonald', 'Gates', 'Müller', 'Nakamura', 'Kowalski', 'Dubois', 'Rossi', 'Ivanova', 'Chen',
];

/** [state code, cities]; the generator weights California heavily. */
export const STATES: readonly (readonly [string, readonly string[]])[] = [
  ['CA', ['Los Angeles', 'San Francisco', 'San Diego', 'San Jose', 'Sacramento', 'Oakland', 'Fresno', 'Irvine']],
  ['TX', ['Houston', 'Dallas', 'Austin', 'San Antonio', 'Fort Worth']],
  ['NY', ['New York', 'Buffalo', 'Rochester', 'Albany']],
  ['FL', ['Miami', 'Orlando', 'Tampa', 'Jacksonville']],
  ['WA', ['Seattle', 'Spokane', 'Tacoma', 'Bellevue']],
  ['IL', ['Chicago', 'Springfield', 'Naperville']],
  ['MA', ['Boston', 'Cambridge', 'Worcester']],
  ['CO', ['Denver', 'Boulder', 'Colorado Springs']],
  ['AZ', ['Phoenix', 'Tucson', 'Scottsdale']],
  ['GA', ['Atlanta', 'Savannah', 'Augusta']],
  ['OR', ['Portland', 'Eugene', 'Salem']],
  ['NV', ['Las Vegas', 'Reno', 'Henderson']],
  ['PA', ['Philadelphia', 'Pittsburgh', 'Allentown']],
  ['OH', ['Columbus', 'Cleveland', 'Cincinnati']],
  ['MI', ['Detroit', 'Grand Rapids', 'Ann Arbor']],
  ['NC', ['Charlotte', 'Raleigh', 'Durham']],
  ['VA', ['Richmond', 'Arlington', 'Norfolk']],
  ['NJ', ['Newark', 'Jersey City', 'Princeton']],
  ['MN', ['Minneapolis', 'Saint Paul', 'Duluth']],
  ['UT', ['Salt Lake City', 'Provo', 'Ogden']],
];

export const STREETS: readonly string[] = [
  'Main', 'Oak', 'Pine', 'Maple', 'Cedar', 'Elm', 'Washington', 'Lake', 'Hill', 'Park', 'Sunset', 'Market',
  'Mission', 'Broadway', 'Church', 'River', 'Highland', 'Center', 'Valley', 'Ocean',
];

export const STREET_SUFFIXES: readonly string[] = ['St', 'Ave', 'Blvd', 'Rd', 'Way', 'Dr', 'Ln'];

export const JOB_TITLES: readonly string[] = [
  'CEO', 'CFO', 'CTO', 'VP Sales', 'VP Marketing', 'Sales Manager', 'Account Executive', 'Office Manager',
  'Purchasing Agent', 'Engineer', 'Consultant', 'Director of Operations', 'Product Manager', 'Analyst', 'Owner',
];

export const COMPANY_PREFIXES: readonly string[] = [
  'Acme', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Wonka', 'Hooli', 'Vandelay', 'Soylent', 'Tyrell',
  'Cyberdyne', 'Aperture', 'Gringotts', 'Oscorp', 'Pied Piper', 'Sterling', 'Summit', 'Pinnacle', 'Blue Sky',
  'Silver Lake', 'Northwind', 'Contoso', 'Fabrikam', 'Tailspin', 'Litware', 'Adventure', 'Coho', 'Wingtip', 'Proseware',
];

export const COMPANY_CORES: readonly string[] = [
  'Logistics', 'Systems', 'Foods', 'Consulting', 'Partners', 'Industries', 'Labs', 'Solutions', 'Media',
  'Holdings', 'Manufacturing', 'Health', 'Energy', 'Software', 'Designs', 'Capital', 'Ventures', 'Supply',
];

export const COMPANY_SUFFIXES: readonly string[] = ['Inc.', 'LLC', 'Corp.', 'Ltd.', 'Group', 'Co.'];

export const INDUSTRIES: readonly string[] = [
  'Software', 'Manufacturing', 'Retail', 'Healthcare', 'Finance', 'Education', 'Construction', 'Hospitality',
  'Transportation', 'Energy', 'Real Estate', 'Legal', 'Agriculture', 'Media',
];

export const REGIONS: readonly string[] = ['West', 'East', 'North', 'South', 'Central', 'International', 'Online'];

export const TEAM_NAMES: readonly string[] = [
  'Sales', 'Support', 'Marketing', 'Customer Success', 'Partnerships', 'Inside Sales', 'Field Sales', 'Operations',
];

export const GROUP_NAMES: readonly string[] = [
  'VIP Customers', 'Newsletter', 'Trade Show Leads', 'Partners', 'Key Accounts', 'Holiday Cards', 'Webinar Attendees',
  'Board Members', 'Referral Sources', 'Beta Testers', 'Prospects', 'Vendors', 'Golf Tournament', 'Advisory Council',
];

export const PROCESSES: readonly (readonly [string, readonly string[]])[] = [
  ['Standard Sales', ['Prospecting', 'Qualification', 'Needs Analysis', 'Proposal', 'Negotiation', 'Closing']],
  ['Enterprise Sales', ['Discovery', 'Solution Design', 'Proof of Concept', 'Proposal', 'Legal Review', 'Closing']],
  ['Renewals', ['Renewal Due', 'Contacted', 'Quote Sent', 'Negotiation', 'Signed', 'Invoiced']],
];

export const PRODUCT_ADJECTIVES: readonly string[] = [
  'Premium', 'Standard', 'Basic', 'Pro', 'Enterprise', 'Compact', 'Deluxe', 'Smart', 'Portable', 'Industrial',
];

export const PRODUCT_NOUNS: readonly string[] = [
  'Widget', 'Gadget', 'License', 'Support Plan', 'Sensor', 'Router', 'Printer', 'Desk', 'Chair', 'Training',
  'Subscription', 'Server', 'Monitor', 'Consulting Hours', 'Installation',
];

export const ACTIVITY_TYPES: readonly string[] = ['Call', 'Meeting', 'To-do', 'Personal Activity', 'Vacation'];

export const HISTORY_TYPES: readonly string[] = [
  'Call Completed', 'Call Attempted', 'Call Left Message', 'Call Received', 'Meeting Held', 'To-do Done',
  'E-mail Sent', 'Letter Sent', 'Field Changed',
];

export const LOCATIONS: readonly string[] = ['Office', 'Client site', 'Zoom', 'Teams', 'Conference room A', 'Coffee shop', 'Phone'];

export const TOPICS: readonly string[] = [
  'pricing', 'the renewal', 'the proposal', 'next quarter', 'the contract', 'onboarding', 'a product demo',
  'support issues', 'the invoice', 'expansion plans', 'the partnership', 'training needs',
];

export const NOTE_PHRASES: readonly string[] = [
  'Prefers e-mail over phone.', 'Asked for a follow-up next week.', 'Budget approved for Q3.', 'Decision maker is the CFO.',
  'Interested in the premium tier.', 'Met at the trade show.', 'Needs a quote by Friday.', 'Happy with the last delivery.',
  'Mentioned a competitor offer.', 'Will be out of office in August.', 'Wants references from similar customers.',
];
